#include "offline_seed/import_job/names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace vmb::ie {
namespace {

absl::Status Bad(const char* what, const std::string& name, const char* rule) {
  return absl::InvalidArgumentError(absl::StrCat("the ", what, " \"", absl::CHexEscape(name),
                                                 "\" is not one Azure accepts: ", rule, ". Nothing was written"));
}

}  // namespace

absl::Status CheckJobName(const std::string& n) {
  constexpr char kRule[] = "use 2 to 64 letters, digits and hyphens, starting with a letter";
  if (n.size() < 2 || n.size() > 64 || !absl::ascii_isalpha(static_cast<unsigned char>(n[0]))) {
    return Bad("job name", n, kRule);
  }
  for (char c : n) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return Bad("job name", n, kRule);
  }
  return absl::OkStatus();
}

absl::Status CheckContainerName(const std::string& n) {
  constexpr char kRule[] =
      "use 3 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit, without two "
      "hyphens together";
  if (n.size() < 3 || n.size() > 63 || n.front() == '-' || n.back() == '-' || n.find("--") != std::string::npos) {
    return Bad("container name", n, kRule);
  }
  for (char c : n) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) || absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
          c == '-')) {
      return Bad("container name", n, kRule);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckStorageAccountName(const std::string& n) {
  constexpr char kRule[] = "use 3 to 24 lowercase letters and digits";
  if (n.size() < 3 || n.size() > 24) return Bad("storage account name", n, kRule);
  for (char c : n) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) && !absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return Bad("storage account name", n, kRule);
    }
  }
  return absl::OkStatus();
}

}  // namespace vmb::ie
