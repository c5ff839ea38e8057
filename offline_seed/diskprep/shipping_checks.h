// The rule for each shipping detail of `diskprep u:`, one place for both ways in: the dialogue checks each answer as
// it is typed (ship_dialogue.h) and CheckShippingDetails (shipping.h) checks the flags' values together.
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_SHIPPING_CHECKS_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_SHIPPING_CHECKS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "offline_seed/import_job/model.pb.h"

namespace vmb::offline {

// The details by their flag names, in the order the dialogue asks for them.
inline constexpr const char* kShippingFields[] = {
    "carrier", "tracking-number", "ship-date", "drive-count", "contact", "street",        "city",
    "state",   "postal-code",     "country",   "phone",       "email",   "return-account"};

// Whether a detail may be left empty: the return address's state or province (not every country has one) and the
// return carrier account (the job's returnShipping, which Azure does not require; it can be sent later with u:).
bool ShippingFieldOptional(const std::string& field);

// A tracking number as carriers print it: no spaces, upper case (so "1z999aa1 0123 " and "1Z999AA10123" are one).
std::string NormalTrackingNumber(const std::string& typed);

// One detail, by flag name, against the job and its location; `now` is today for the ship date's rule. OK, or
// kInvalidArgument saying what is wrong and what is expected:
//   carrier          one of the location's supported carriers (any case)
//   tracking-number  5-35 letters, digits and hyphens once spaces are removed
//   ship-date        YYYY-MM-DD, within two weeks of today either side (the drives must arrive within two weeks)
//   drive-count      a number, equal to the job's drives (a package carries exactly one job's drives)
//   phone            6-20 digits, with + ( ) - . / and spaces between
//   email            name@domain.tld, no spaces
//   return-account   empty, or 4-35 letters, digits and hyphens once spaces are removed
//   the rest         not empty (state: may be empty)
absl::Status CheckShippingField(const std::string& field, const std::string& value, const ie::proto::Job& job,
                                const ie::proto::Location& where, absl::Time now);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_SHIPPING_CHECKS_H_
