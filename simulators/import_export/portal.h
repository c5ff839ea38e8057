// The Azure portal's side of seed 004's manual path ("Manually upload an offline backup certificate"), over the
// directory (Graph) as the portal drives it: find the application among the owned ones, look at its Certificates &
// secrets, delete it when it has none, or upload the exported .cer. Tests and `portal` (the command line) use it
// to finish the manual path against the simulated directory.
#ifndef VMBACKUP_SIMULATORS_IMPORT_EXPORT_PORTAL_H_
#define VMBACKUP_SIMULATORS_IMPORT_EXPORT_PORTAL_H_

#include <string>

#include "absl/status/statusor.h"
#include "offline_seed/import_job/directory_client.h"

namespace vmb::ie {

// App registrations > the application named `display_name`. kNotFound when there is none.
absl::StatusOr<proto::Application> PortalShow(DirectoryClient& directory, const std::string& display_name);

// Overview > Delete, as the seed allows it: only when the application has no certificates or keys
// (kFailedPrecondition naming how many it has otherwise).
absl::Status PortalDeleteIfNoKeys(DirectoryClient& directory, const std::string& display_name);

// Certificates & secrets > Upload certificate: adds the certificate in `cer_path` (DER, as certgen exports it) to
// the application's key credentials, keeping the others. kInvalidArgument when the file is not a certificate;
// nothing changes when the application already holds it. Returns its thumbprint.
absl::StatusOr<std::string> PortalUploadCertificate(DirectoryClient& directory, const std::string& display_name,
                                                    const std::string& cer_path);

}  // namespace vmb::ie

#endif  // VMBACKUP_SIMULATORS_IMPORT_EXPORT_PORTAL_H_
