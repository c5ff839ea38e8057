// The storage emulator's published development account (Azurite's and the old Storage Emulator's). It is documented
// publicly and is not a secret; the tools default to it when they talk to a local emulator.
#ifndef VMBACKUP_COMMON_BLOB_DEV_ACCOUNT_H_
#define VMBACKUP_COMMON_BLOB_DEV_ACCOUNT_H_

namespace vmb::blob {

inline constexpr char kDevAccountName[] = "devstoreaccount1";
inline constexpr char kDevAccountKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

}  // namespace vmb::blob

#endif  // VMBACKUP_COMMON_BLOB_DEV_ACCOUNT_H_
