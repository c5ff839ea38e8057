#include "common/log/redact.h"

#include <regex>

namespace vmb {
namespace {

struct Rule {
  std::regex pattern;
  const char* replacement;
};

const std::vector<Rule>& Rules() {
  static const auto* rules = new std::vector<Rule>{
      // SAS signature in a URI or query string (also percent-encoded "sig%3D" inside nested URIs).
      {std::regex(R"(((?:^|[?&;\s"']|%3[fF]|%26)sig(?:=|%3[dD]))(?:(?!%26)[^&\s"'<>])*)", std::regex::icase),
       "$1REDACTED"},
      // Shared Key authorization header value.
      {std::regex(R"((SharedKey(?:Lite)?\s+[^:\s]+:)[A-Za-z0-9+/=]+)"), "$1REDACTED"},
      // Connection strings and key=value forms of account keys and passwords.
      {std::regex(
           R"(((?:AccountKey|account[_-]?key|SharedAccessSignature|password|recovery[_-]?password)\s*[=:]\s*"?)[^;&\s"]+)",
           std::regex::icase),
       "$1REDACTED"},
      // BitLocker-format recovery passwords.
      {std::regex(R"(\b\d{6}(?:-\d{6}){7}\b)"), "REDACTED-RECOVERY-PASSWORD"},
      // PEM private keys.
      {std::regex(R"(-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----)"),
       "-----REDACTED $1PRIVATE KEY-----"},
      // The encrypted protected settings blob of handler settings JSON.
      {std::regex(R"(("protectedSettings"\s*:\s*")[^"]*)"), "$1REDACTED"},
  };
  return *rules;
}

}  // namespace

std::string RedactSecrets(absl::string_view text) {
  std::string out(text);
  for (const Rule& rule : Rules()) out = std::regex_replace(out, rule.pattern, rule.replacement);
  return out;
}

}  // namespace vmb
