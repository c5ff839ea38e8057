// The questions of `diskprep u:` (seed 004: "the tool guides you through the inputs", then "review the details and
// confirm with yes"): each shipping detail no flag gave is asked on the terminal and checked as it is typed
// (CheckShippingField: carrier from the location's list, tracking number, ship date, drive count, address, phone,
// email); a bad answer is re-asked, saying why, and nothing typed before is lost. State or province is asked too
// and may be left empty.
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_SHIP_DIALOGUE_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_SHIP_DIALOGUE_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "offline_seed/diskprep/dialogue.h"
#include "offline_seed/diskprep/shipping.h"
#include "offline_seed/import_job/model.pb.h"

namespace vmb::offline {

// The question for each detail (by flag name), as the dialogue asks it.
std::string ShippingQuestion(const std::string& field, const ie::proto::Job& job, const ie::proto::Location& where);

// Fills `given` (details by flag name) with what is missing. The flags' values are checked first, before anything
// is asked (kInvalidArgument naming the flag: nothing typed is lost to it); then each missing detail is asked
// through `prompter`, or, when it is null (no terminal), kInvalidArgument "--<flag> is required (no terminal to ask
// on)". kCancelled when the admin ends the input.
absl::Status AskShippingDetails(Prompter* prompter, std::map<std::string, std::string>& given,
                                const ie::proto::Job& job, const ie::proto::Location& where);

// The details as the flags and answers give them; kInvalidArgument for a drive count that is no number.
absl::StatusOr<ShippingDetails> ShippingDetailsOf(const std::map<std::string, std::string>& given);

// The details for review before they are committed.
std::string ShippingReview(const ie::proto::Job& job, const ShippingDetails& d);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_SHIP_DIALOGUE_H_
