#include "offline_seed/diskprep/shipping_checks.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"

namespace vmb::offline {
namespace {

absl::Status Carrier(const std::string& value, const ie::proto::Location& where) {
  for (const auto& c : where.properties().supportedcarriers()) {
    if (absl::EqualsIgnoreCase(c, value)) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("carrier \"", value, "\" does not serve ", where.name(),
                                                 "; choose one of ",
                                                 absl::StrJoin(where.properties().supportedcarriers(), ", ")));
}

absl::Status TrackingNumber(const std::string& value) {
  const std::string n = NormalTrackingNumber(value);
  if (n.size() < 5) return absl::InvalidArgumentError("the tracking number looks too short");
  if (n.size() > 35) return absl::InvalidArgumentError("the tracking number looks too long (at most 35 characters)");
  for (char c : n) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat("the tracking number has \"", std::string(1, c),
                                                     "\": enter it as the carrier prints it (letters, digits, -)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ShipDate(const std::string& value, absl::Time now) {
  absl::Time date;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%d", value, absl::UTCTimeZone(), &date, &err)) {
    return absl::InvalidArgumentError(absl::StrCat("ship date \"", value, "\" is not YYYY-MM-DD"));
  }
  // The drives must reach the datacenter within two weeks of the details being entered (now): a ship date outside
  // two weeks either side of today is a typo, or a package that cannot arrive in time.
  const absl::Time today = absl::FromCivil(absl::ToCivilDay(now, absl::UTCTimeZone()), absl::UTCTimeZone());
  if (date < today - absl::Hours(24 * 14) || date > today + absl::Hours(24 * 14)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ship date ", value, " is more than two weeks from today (",
        absl::FormatTime("%Y-%m-%d", today, absl::UTCTimeZone()),
        "): the drives must reach the datacenter within two weeks of these details; enter the date you ship them"));
  }
  return absl::OkStatus();
}

absl::Status DriveCount(const std::string& value, const ie::proto::Job& job) {
  int count = 0;
  if (!absl::SimpleAtoi(value, &count)) {
    return absl::InvalidArgumentError(absl::StrCat("the number of drives \"", value, "\" is not a number"));
  }
  const int drives = job.properties().drivelist_size();
  if (count != drives) {
    return absl::InvalidArgumentError(
        absl::StrCat("the package holds ", count, " drive(s) but import job ", job.name(), " has ", drives,
                     "; a package carries exactly the drives of one job (do not mix drives of different jobs)"));
  }
  return absl::OkStatus();
}

absl::Status Phone(const std::string& value) {
  int digits = 0;
  for (char c : value) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      ++digits;
    } else if (!absl::StrContains("+()-./ ", c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the phone number has \"", std::string(1, c), "\": use digits, with + ( ) - . / and spaces"));
    }
  }
  if (digits < 6 || digits > 20) {
    return absl::InvalidArgumentError(absl::StrCat("the phone number has ", digits,
                                                   " digits; enter 6 to 20, "
                                                   "with the country code (e.g. +31 30 123 4567)"));
  }
  return absl::OkStatus();
}

absl::Status ReturnAccount(const std::string& value) {
  const std::string account = NormalTrackingNumber(value);
  if (account.empty()) return absl::OkStatus();
  for (char c : account) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat("the carrier account number has \"", std::string(1, c),
                                                     "\": enter it as the carrier gave it (letters, digits, -)"));
    }
  }
  if (account.size() < 4 || account.size() > 35) {
    return absl::InvalidArgumentError(absl::StrCat("the carrier account number has ", account.size(),
                                                   " characters; carriers' account numbers have 4 to 35"));
  }
  return absl::OkStatus();
}

absl::Status Email(const std::string& value) {
  const size_t at = value.find('@');
  if (at == std::string::npos) return absl::InvalidArgumentError("the email address has no '@'");
  const std::string domain = value.substr(at + 1);
  const size_t dot = domain.rfind('.');
  if (at == 0 || domain.find('@') != std::string::npos || dot == std::string::npos || dot == 0 ||
      dot + 1 == domain.size() || absl::StrContains(value, " ")) {
    return absl::InvalidArgumentError(absl::StrCat("the email address \"", value, "\" is not name@domain.tld"));
  }
  return absl::OkStatus();
}

}  // namespace

bool ShippingFieldOptional(const std::string& field) { return field == "state" || field == "return-account"; }

std::string NormalTrackingNumber(const std::string& typed) {
  std::string out;
  for (char c : typed) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c)))
      out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

absl::Status CheckShippingField(const std::string& field, const std::string& value, const ie::proto::Job& job,
                                const ie::proto::Location& where, absl::Time now) {
  if (field == "carrier") return Carrier(value, where);
  if (field == "tracking-number") return TrackingNumber(value);
  if (field == "ship-date") return ShipDate(value, now);
  if (field == "drive-count") return DriveCount(value, job);
  if (field == "return-account") return ReturnAccount(value);
  static const std::map<std::string, std::string> kNames = {{"contact", "contact name"},
                                                            {"street", "street address"},
                                                            {"city", "city"},
                                                            {"state", "state or province"},
                                                            {"postal-code", "postal code"},
                                                            {"country", "country or region"},
                                                            {"phone", "phone"},
                                                            {"email", "email"}};
  auto name = kNames.find(field);
  if (name == kNames.end()) return absl::InvalidArgumentError(absl::StrCat("no shipping detail ", field));
  if (absl::StripAsciiWhitespace(value).empty()) {
    if (ShippingFieldOptional(field)) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("the return address needs a ", name->second));
  }
  if (field == "phone") return Phone(value);
  if (field == "email") return Email(value);
  return absl::OkStatus();
}

}  // namespace vmb::offline
