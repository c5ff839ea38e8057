#include "offline_seed/diskprep/ship_dialogue.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "offline_seed/diskprep/shipping_checks.h"

namespace vmb::offline {
namespace {

std::string Get(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

}  // namespace

std::string ShippingQuestion(const std::string& field, const ie::proto::Job& job, const ie::proto::Location& where) {
  if (field == "carrier") {
    return absl::StrCat("Carrier (", absl::StrJoin(where.properties().supportedcarriers(), ", "), "): ");
  }
  if (field == "tracking-number") return "Tracking number: ";
  if (field == "ship-date") return "Ship date (YYYY-MM-DD): ";
  if (field == "drive-count") {
    return absl::StrCat("Number of drives in the package (import job ", job.name(), " has ",
                        job.properties().drivelist_size(), "): ");
  }
  if (field == "contact") return "Return address: contact name: ";
  if (field == "street") return "Street address: ";
  if (field == "city") return "City: ";
  if (field == "state") return "State or province (Enter if none): ";
  if (field == "postal-code") return "Postal code: ";
  if (field == "country") return "Country or region: ";
  if (field == "phone") return "Phone (with the country code): ";
  if (field == "email") return "Email: ";
  return "Return shipping: carrier account number for the drives' return (Enter if none): ";
}

absl::Status AskShippingDetails(Prompter* prompter, std::map<std::string, std::string>& given,
                                const ie::proto::Job& job, const ie::proto::Location& where) {
  const absl::Time now = absl::Now();
  for (const char* field : kShippingFields) {
    const std::string value = Get(given, field);
    if (value.empty()) continue;
    absl::Status checked = CheckShippingField(field, value, job, where, now);
    if (!checked.ok()) return absl::InvalidArgumentError(absl::StrCat("--", field, ": ", checked.message()));
  }
  for (const char* field : kShippingFields) {
    if (!Get(given, field).empty()) continue;
    if (prompter == nullptr) {
      if (ShippingFieldOptional(field)) continue;
      return absl::InvalidArgumentError(absl::StrCat("--", field, " is required (no terminal to ask on)"));
    }
    absl::StatusOr<std::string> answer =
        prompter->Ask(ShippingQuestion(field, job, where), [&](const std::string& a) -> std::string {
          return std::string(CheckShippingField(field, a, job, where, now).message());
        });
    if (!answer.ok()) return answer.status();
    given[field] = *answer;
  }
  return absl::OkStatus();
}

absl::StatusOr<ShippingDetails> ShippingDetailsOf(const std::map<std::string, std::string>& given) {
  ShippingDetails d;
  d.carrier = Get(given, "carrier");
  d.tracking_number = Get(given, "tracking-number");
  d.ship_date = Get(given, "ship-date");
  if (!absl::SimpleAtoi(Get(given, "drive-count"), &d.drive_count)) {
    return absl::InvalidArgumentError("--drive-count needs a number");
  }
  auto* a = &d.return_address;
  a->set_recipientname(Get(given, "contact"));
  a->set_streetaddress1(Get(given, "street"));
  a->set_city(Get(given, "city"));
  a->set_stateorprovince(Get(given, "state"));
  a->set_postalcode(Get(given, "postal-code"));
  a->set_countryorregion(Get(given, "country"));
  a->set_phone(Get(given, "phone"));
  a->set_email(Get(given, "email"));
  d.return_account = NormalTrackingNumber(Get(given, "return-account"));
  d.return_carrier = Get(given, "return-carrier");
  return d;
}

std::string ShippingReview(const ie::proto::Job& job, const ShippingDetails& d) {
  const ie::proto::ReturnAddress& a = d.return_address;
  std::string out =
      absl::StrCat("Import job ", job.name(), ": ", d.drive_count, " drive(s) by ", d.carrier, ", tracking number ",
                   NormalTrackingNumber(d.tracking_number), ", shipped ", d.ship_date,
                   "\nReturn to: ", a.recipientname(), ", ", a.streetaddress1(), ", ", a.postalcode(), " ", a.city());
  if (!a.stateorprovince().empty()) absl::StrAppend(&out, ", ", a.stateorprovince());
  absl::StrAppend(&out, ", ", a.countryorregion(), ", ", a.phone(), ", ", a.email());
  if (!d.return_account.empty()) {
    absl::StrAppend(&out, "\nReturn shipping: ", d.return_carrier.empty() ? d.carrier : d.return_carrier, " account ",
                    d.return_account);
  }
  return out;
}

}  // namespace vmb::offline
