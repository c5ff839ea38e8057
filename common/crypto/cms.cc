#include "common/crypto/cms.h"

#include <openssl/cms.h>
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/encoding.h"
#include "common/status/status_macros.h"

namespace vmb::crypto {

using internal::MemoryBio;
using internal::OpenSslError;
using internal::OpenSslPtr;

namespace {

std::string NameOf(X509_NAME* name) {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return internal::BioContents(bio.get());
}

std::string SerialOf(ASN1_INTEGER* serial) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out = hex ? hex : "?";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

}  // namespace

absl::StatusOr<std::string> CmsEncrypt(absl::string_view plaintext, const Certificate& recipient, CmsCipher cipher) {
  OpenSslPtr<STACK_OF(X509)> certs(sk_X509_new_null());
  X509_up_ref(recipient.get());
  sk_X509_push(certs.get(), recipient.get());
  OpenSslPtr<BIO> in = MemoryBio(plaintext);
  const EVP_CIPHER* evp = cipher == CmsCipher::kAes256Cbc ? EVP_aes_256_cbc() : EVP_des_ede3_cbc();
  OpenSslPtr<CMS_ContentInfo> cms(CMS_encrypt(certs.get(), in.get(), evp, CMS_BINARY));
  if (!cms) return OpenSslError(absl::StatusCode::kInternal, "CMS encrypt failed");
  unsigned char* der = nullptr;
  int len = i2d_CMS_ContentInfo(cms.get(), &der);
  if (len <= 0) return OpenSslError(absl::StatusCode::kInternal, "CMS DER encoding failed");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<std::string> CmsDecrypt(absl::string_view der, const CertificateAndKey& identity) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  OpenSslPtr<CMS_ContentInfo> cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (!cms) {
    internal::DrainOpenSslErrors();
    return absl::InvalidArgumentError(
        absl::StrCat("protected data is not a DER CMS structure (", der.size(), " bytes)"));
  }
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_enveloped) {
    return absl::InvalidArgumentError("protected data is CMS but not EnvelopedData");
  }
  // Check the recipients first, so "encrypted for another certificate" is told apart from corruption.
  STACK_OF(CMS_RecipientInfo)* recipients = CMS_get0_RecipientInfos(cms.get());
  bool matched = false;
  std::vector<std::string> seen;
  for (int i = 0; i < sk_CMS_RecipientInfo_num(recipients); ++i) {
    CMS_RecipientInfo* ri = sk_CMS_RecipientInfo_value(recipients, i);
    if (CMS_RecipientInfo_type(ri) != CMS_RECIPINFO_TRANS) continue;
    if (CMS_RecipientInfo_ktri_cert_cmp(ri, identity.certificate.get()) == 0) {
      matched = true;
      break;
    }
    ASN1_OCTET_STRING* key_id = nullptr;
    X509_NAME* issuer = nullptr;
    ASN1_INTEGER* serial = nullptr;
    if (CMS_RecipientInfo_ktri_get0_signer_id(ri, &key_id, &issuer, &serial) == 1 && issuer && serial) {
      seen.push_back(absl::StrCat("issuer \"", NameOf(issuer), "\" serial ", SerialOf(serial)));
    }
  }
  if (!matched) {
    return absl::FailedPreconditionError(absl::StrCat(
        "protected data was encrypted for another certificate (",
        seen.empty() ? "no RSA recipient" : absl::StrJoin(seen, ", "), "), not for ", identity.certificate.Thumbprint(),
        "; the settings must be re-sent for this VM's current certificate"));
  }
  OpenSslPtr<BIO> out(BIO_new(BIO_s_mem()));
  if (CMS_decrypt(cms.get(), identity.key.get(), identity.certificate.get(), nullptr, out.get(), CMS_BINARY) != 1) {
    internal::DrainOpenSslErrors();
    return absl::DataLossError(
        "protected data did not decrypt with the matching certificate's key (corrupted, or the .prv is wrong)");
  }
  return internal::BioContents(out.get());
}

absl::StatusOr<std::string> CmsDecryptBase64(absl::string_view base64_der, const CertificateAndKey& identity) {
  absl::StatusOr<std::string> der = Base64Decode(base64_der);
  if (!der.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("protected data: ", der.status().message()));
  }
  return CmsDecrypt(*der, identity);
}

}  // namespace vmb::crypto
