#include "simulators/import_export/datacenter.h"

#include <sys/stat.h>

#include <map>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/blob/blob_client.h"
#include "common/blob/dev_account.h"
#include "common/concurrent/bounded_pool.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/crypto/recovery_password.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"
#include "offline_seed/drives/drive_source.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/manifest/drive_manifest.h"
#include "offline_seed/volume/encrypted_volume.h"
#include "offline_seed/volume/volume.pb.h"
#include "pugixml.hpp"
#include "simulators/import_export/sim_admin.h"
#include "simulators/sata/drive.pb.h"

namespace vmb::ie {
namespace {

struct RangeLog {
  std::string blob, file;
  uint64_t offset, length;
  std::string hash, status;
};

std::string DriveLogXml(const std::string& drive_id, const std::vector<RangeLog>& ranges, const std::string& status,
                        bool errors_only) {
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "utf-8";
  pugi::xml_node root = doc.append_child("DriveLog");
  root.append_attribute("Version") = "2014-11-01";
  root.append_child("DriveId").text().set(drive_id.c_str());
  std::map<std::string, pugi::xml_node> blobs;
  for (const RangeLog& r : ranges) {
    if (errors_only && r.status == "Completed") continue;
    pugi::xml_node& blob = blobs[r.blob];
    if (!blob) {
      blob = root.append_child("Blob");
      blob.append_child("BlobPath").text().set(r.blob.c_str());
      blob.append_child("FilePath").text().set(r.file.c_str());
      blob.append_child("PageRangeList");
    }
    pugi::xml_node pr = blob.child("PageRangeList").append_child("PageRange");
    pr.append_attribute("Offset") = absl::StrCat(r.offset).c_str();
    pr.append_attribute("Length") = absl::StrCat(r.length).c_str();
    pr.append_attribute("Hash") = r.hash.c_str();
    pr.append_attribute("Status") = r.status.c_str();
  }
  for (auto& [path, blob] : blobs) {
    bool ok = true;
    for (pugi::xml_node pr : blob.child("PageRangeList").children())
      ok &= std::string(pr.attribute("Status").value()) == "Completed";
    blob.prepend_attribute("Status") = ok ? "Completed" : "CompletedWithErrors";
  }
  root.append_child("Status").text().set(status.c_str());
  std::ostringstream out;
  doc.save(out, "  ");
  return out.str();
}

// What one package's processing shares: the job, the storage account, and the outcomes so far.
struct Package {
  const ReceiveOptions& o;
  absl::Time now;
  proto::Job& job;
  blob::BlobClient& storage;
  blob::BlobUri endpoint;
  std::string logs_container;
  ReceiveResult& result;
};

// The serial number on a drive's label, for a drive whose volume header cannot be read: the simulated bay keeps it
// beside the image (<name>.drive.json). Empty when there is no label.
std::string LabelSerial(const std::string& image) {
  absl::string_view stem = image;
  absl::ConsumeSuffix(&stem, ".img");
  absl::StatusOr<std::string> text = file::ReadFile(absl::StrCat(stem, ".drive.json"));
  sata::proto::DriveSpec spec;
  if (!text.ok() || !json::Parse(*text, &spec, "drive label").ok()) return "";
  return spec.serial();
}

// A drive has finished: its state, copy status and drive logs (error and verbose) in the logs container.
absl::Status Finish(Package& p, proto::DriveStatus* ds, DriveOutcome out, const std::vector<RangeLog>& logs,
                    const std::string& state, const std::string& error, const std::string& why = "") {
  out.drive_id = ds->driveid();
  out.state = state;
  out.error = error;
  ds->set_state(state);
  ds->set_percentcomplete(100);
  ds->set_copystatus(error.empty() ? "Completed" : why.empty() ? error : absl::StrCat(error, ": ", why));
  std::string base = absl::StrCat("waies/", p.o.job_name, "_", ds->driveid(), "_",
                                  absl::FormatTime("%Y%m%d%H%M%S", p.now, absl::UTCTimeZone()));
  blob::BlobUri err_log = p.endpoint.WithContainer(p.logs_container).WithBlob(base + "_error.xml");
  blob::BlobUri verbose_log = p.endpoint.WithContainer(p.logs_container).WithBlob(base + "_verbose.xml");
  std::string status = error.empty() ? "Completed" : error;
  RETURN_IF_ERROR(
      p.storage.PutBlockBlob(err_log, DriveLogXml(ds->driveid(), logs, status, true), {}, "application/xml"));
  RETURN_IF_ERROR(
      p.storage.PutBlockBlob(verbose_log, DriveLogXml(ds->driveid(), logs, status, false), {}, "application/xml"));
  ds->set_errorloguri(err_log.ResourceUrl());
  ds->set_verboseloguri(verbose_log.ResourceUrl());
  p.result.drives.push_back(out);
  return absl::OkStatus();
}

proto::DriveStatus* JobDrive(proto::Job& job, const std::string& drive_id) {
  for (auto& d : *job.mutable_properties()->mutable_drivelist()) {
    if (!drive_id.empty() && d.driveid() == drive_id) return &d;
  }
  return nullptr;
}

// Reads, checks and writes every range of an unlocked drive's manifest into the storage account.
absl::Status ImportRanges(Package& p, offline::EncryptedVolume& volume, const offline::proto::DriveContents& contents,
                          const offline::manifest::DriveManifest& manifest, DriveOutcome& out,
                          std::vector<RangeLog>& logs) {
  std::map<std::string, std::map<uint64_t, uint64_t>> where;  // blob -> range offset -> volume offset
  for (const auto& r : contents.regions()) where[r.blob()][r.offset()] = r.volumeoffset();
  for (const auto& b : manifest.blobs) {
    std::string container = b.blob_path.substr(0, b.blob_path.find('/'));
    blob::BlobUri target = p.endpoint.WithContainer(container).WithBlob(b.blob_path.substr(b.blob_path.find('/') + 1));
    RETURN_IF_ERROR(p.storage.CreateContainer(p.endpoint.WithContainer(container)));
    absl::StatusOr<blob::BlobProperties> existing = p.storage.GetProperties(target);
    if (!existing.ok()) RETURN_IF_ERROR(p.storage.CreatePageBlob(target, b.length));
    // Ranges are read, decrypted and checked here, in order; the Put Page calls run on a few threads.
    concurrent::BoundedPool writers(p.o.parallelism);
    for (const auto& r : b.ranges) {
      RangeLog log{b.blob_path, b.file_path, r.offset, r.length, r.md5_hex, "Completed"};
      std::string data;
      auto vol = where[b.blob_path].find(r.offset);
      if (vol == where[b.blob_path].end() || !volume.Read(vol->second, (r.length + 4095) / 4096 * 4096, &data).ok()) {
        log.status = "Corrupted";
      } else {
        data.resize(r.length);
        if (crypto::Base16Encode(crypto::Md5(data), true) != absl::AsciiStrToUpper(r.md5_hex)) log.status = "Corrupted";
      }
      if (log.status == "Corrupted") {
        ++out.ranges_corrupted;
      } else if (data.find_first_not_of('\0') == std::string::npos) {
        ++out.ranges_skipped_zero;
      } else {
        writers.Submit([&storage = p.storage, target, offset = r.offset, data = std::move(data)] {
          return storage.PutPages(target, offset, data);
        });
        ++out.ranges_written;
      }
      logs.push_back(log);
    }
    RETURN_IF_ERROR(writers.Wait());
  }
  return absl::OkStatus();
}

// One drive of the package whose header was read: checked against the job, unlocked, its manifest read, imported.
// A drive that cannot be used ends CompletedMoreInfo with the reason; only the storage account's and the control
// plane's failures stop the package.
absl::Status ImportDrive(Package& p, offline::RawBlockDevice& raw, const offline::proto::VolumeHeader& header,
                         proto::DriveStatus* ds) {
  DriveOutcome out;
  ds->set_state("Transferring");
  std::vector<RangeLog> logs;
  // The drive in hand must be the one the job describes (its header as diskprep wrote it).
  if (!ds->driveheaderhash().empty() && offline::DriveHeaderHash(header) != ds->driveheaderhash()) {
    return Finish(p, ds, out, logs, "CompletedMoreInfo", "DriveHeaderHashMismatch");
  }
  absl::StatusOr<crypto::RecoveryPassword> password = crypto::RecoveryPassword::Parse(ds->bitlockerkey());
  absl::StatusOr<std::unique_ptr<offline::EncryptedVolume>> volume =
      password.ok() ? offline::EncryptedVolume::Unlock(raw, *password)
                    : absl::StatusOr<std::unique_ptr<offline::EncryptedVolume>>(password.status());
  if (!volume.ok()) return Finish(p, ds, out, logs, "CompletedMoreInfo", "BitLockerKeyInvalid");
  std::string area;
  if (absl::Status read = (*volume)->Read(0, offline::kManifestArea, &area); !read.ok()) {
    return Finish(p, ds, out, logs, "CompletedMoreInfo", "ReadManifestFailed",
                  absl::StrCat("the drive's manifest area cannot be read (", read.message(),
                               "); its data is not imported (repair it over the network with `seedagent repair`)"));
  }
  area.resize(area.find('\0') == std::string::npos ? area.size() : area.find('\0'));
  offline::proto::DriveContents contents;
  // The published drive status codes: ManifestCorrupted when the content does not match the job's hash,
  // ManifestFormatInvalid when it does but is not a manifest.
  if (!json::Parse(area, &contents, "drive contents").ok() ||
      crypto::Base16Encode(crypto::Md5(contents.manifestxml()), true) != ds->manifesthash()) {
    return Finish(p, ds, out, logs, "CompletedMoreInfo", "ManifestCorrupted");
  }
  absl::StatusOr<offline::manifest::DriveManifest> manifest = offline::manifest::Parse(contents.manifestxml());
  if (!manifest.ok()) return Finish(p, ds, out, logs, "CompletedMoreInfo", "ManifestFormatInvalid");
  RETURN_IF_ERROR(ImportRanges(p, **volume, contents, *manifest, out, logs));
  return Finish(p, ds, out, logs, out.ranges_corrupted ? "CompletedMoreInfo" : "Completed",
                out.ranges_corrupted ? absl::StrCat(out.ranges_corrupted, " range(s) Corrupted") : "");
}

// A drive whose volume header cannot be read (no volume, a damaged header, unreadable sectors) imports nothing and
// ends CompletedMoreInfo naming the problem; the rest of the package goes on.
absl::Status UnreadableDrive(Package& p, proto::DriveStatus* ds, const std::string& image, const absl::Status& why) {
  return Finish(p, ds, DriveOutcome{}, {}, "CompletedMoreInfo", "BitLockerVolumeNotFound",
                absl::StrCat("the drive's volume header cannot be read (", why.message(), "; ", image,
                             "); its data is not imported (repair it over the network with `seedagent repair`)"));
}

// The drives of the package, one by one. A drive whose header cannot be read is matched to the job by the serial on
// its label, else (after the others) by elimination: the one drive of the job still unaccounted for.
absl::Status ImportDrives(Package& p) {
  std::vector<std::pair<std::string, absl::Status>> unidentified;  // image, why its header is unreadable
  for (const std::string& image : p.o.drive_images) {
    struct stat st;
    if (::stat(image.c_str(), &st) != 0) return absl::NotFoundError(absl::StrCat("no drive image ", image));
    absl::StatusOr<std::unique_ptr<offline::RawBlockDevice>> raw =
        offline::RawBlockDevice::Open(image, static_cast<uint64_t>(st.st_size) / 4096 * 4096);
    absl::StatusOr<offline::proto::VolumeHeader> header =
        raw.ok() ? offline::ReadVolumeHeader(**raw) : absl::StatusOr<offline::proto::VolumeHeader>(raw.status());
    if (!header.ok()) {
      if (proto::DriveStatus* ds = JobDrive(p.job, LabelSerial(image))) {
        RETURN_IF_ERROR(UnreadableDrive(p, ds, image, header.status()));
      } else {
        unidentified.emplace_back(image, header.status());
      }
      continue;
    }
    proto::DriveStatus* ds = JobDrive(p.job, header->driveid());
    if (ds == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("drive ", header->driveid(), " (", image,
                                                        ") is not part of import job ", p.o.job_name,
                                                        "; a package must not mix drives of different jobs"));
    }
    RETURN_IF_ERROR(ImportDrive(p, **raw, *header, ds));
  }
  std::vector<proto::DriveStatus*> unaccounted;
  for (auto& d : *p.job.mutable_properties()->mutable_drivelist()) {
    bool done = false;
    for (const DriveOutcome& out : p.result.drives) done |= out.drive_id == d.driveid();
    if (!done) unaccounted.push_back(&d);
  }
  if (unidentified.size() == 1 && unaccounted.size() == 1) {
    return UnreadableDrive(p, unaccounted[0], unidentified[0].first, unidentified[0].second);
  }
  for (const auto& [image, why] : unidentified) {
    p.result.unidentified.push_back(absl::StrCat(image, ": the volume header cannot be read (", why.message(),
                                                 ") and the drive has no label naming its serial number"));
  }
  return absl::OkStatus();
}

// Seed 004: the drives must reach the datacenter within two weeks of the shipping details being entered (with
// DiskPrep), whatever ship date was typed; later, they are not processed and each drive says why.
absl::Status RefuseLateArrival(SimAdmin& admin, const JobRef& ref, absl::Time now, proto::Job& job) {
  ASSIGN_OR_RETURN(proto::DatacenterJob view, admin.DatacenterGet(ref));
  if (view.shippingenteredunixms() == 0) return absl::OkStatus();  // Shipping always has them; nothing to count from
  const absl::Time entered = absl::FromUnixMillis(view.shippingenteredunixms());
  if (now - entered <= absl::Hours(24 * 14)) return absl::OkStatus();
  std::string why = absl::StrCat("Not processed: the drives arrived ", absl::ToInt64Hours(now - entered) / 24,
                                 " days after the shipping details were entered (",
                                 absl::FormatTime("%Y-%m-%d", entered, absl::UTCTimeZone()), "); the limit is 14 days");
  for (auto& d : *job.mutable_properties()->mutable_drivelist()) d.set_copystatus(why);
  (void)admin.DatacenterUpdate(ref, job);
  return absl::FailedPreconditionError(absl::StrCat("import job ", ref.name, ": ", why));
}

}  // namespace

absl::StatusOr<ReceiveResult> ReceivePackage(const ReceiveOptions& o) {
  const absl::Time now = o.clock->Now();
  ArmImportJobClient client(o.transport, o.control_plane, o.token);
  SimAdmin admin(o.transport, o.control_plane, o.token);
  JobRef ref{o.subscription, o.resource_group, o.job_name};
  ASSIGN_OR_RETURN(proto::Job job, client.GetJob(ref));
  // The drives' keys come only from BitLockerKeys_List, never with the job.
  ASSIGN_OR_RETURN(std::vector<proto::DriveBitLockerKey> keys, client.ListBitLockerKeys(ref));
  for (auto& d : *job.mutable_properties()->mutable_drivelist()) {
    for (const auto& k : keys) {
      if (k.driveid() == d.driveid()) d.set_bitlockerkey(k.bitlockerkey());
    }
  }
  // Transferring: an earlier run was interrupted; the package is processed again from the start (every range is
  // checked and written again with the same bytes, so nothing is written twice with different content).
  bool resuming = job.properties().state() == "Transferring" || job.properties().state() == "Received";
  if (job.properties().state() != "Shipping" && !resuming) {
    return absl::FailedPreconditionError(absl::StrCat("import job ", o.job_name, " is ", job.properties().state(),
                                                      ", not Shipping: the drives are not processed"));
  }
  if (!resuming) RETURN_IF_ERROR(RefuseLateArrival(admin, ref, now, job));
  ASSIGN_OR_RETURN(proto::StorageAccount account,
                   client.GetStorageAccount(
                       o.subscription, o.resource_group,
                       job.properties().storageaccountid().substr(job.properties().storageaccountid().rfind('/') + 1)));
  ASSIGN_OR_RETURN(blob::BlobUri endpoint, blob::BlobUri::ForAccount(o.blob_endpoint));
  ASSIGN_OR_RETURN(blob::SharedKeyCredential cred,
                   blob::SharedKeyCredential::Create(endpoint.account(),
                                                     o.account_key.empty() ? blob::kDevAccountKey : o.account_key));
  blob::BlobClientOptions storage_options;
  storage_options.request_timeout = o.request_timeout;
  blob::BlobClient storage(o.transport, cred, storage_options);
  std::string logs_container =
      job.properties().diagnosticspath().empty() ? "waimportexport" : job.properties().diagnosticspath();
  RETURN_IF_ERROR(storage.CreateContainer(endpoint.WithContainer(logs_container)));

  // Azure's sequence: the package is Received, then its drives are Transferring one by one.
  job.mutable_properties()->set_state("Received");
  for (auto& d : *job.mutable_properties()->mutable_drivelist()) d.set_state("Received");
  RETURN_IF_ERROR(admin.DatacenterUpdate(ref, job).status());
  job.mutable_properties()->set_state("Transferring");
  RETURN_IF_ERROR(admin.DatacenterUpdate(ref, job).status());

  ReceiveResult result;
  Package package{o, now, job, storage, endpoint, logs_container, result};
  RETURN_IF_ERROR(ImportDrives(package));
  // Drives of the job that were not in the package.
  for (auto& d : *job.mutable_properties()->mutable_drivelist()) {
    bool received = false;
    for (const DriveOutcome& out : result.drives) received |= out.drive_id == d.driveid();
    if (received) continue;
    d.set_state("NeverReceived");
    d.set_copystatus(
        "NeverReceived: the drive was not in the package; its data is not imported (repair it over "
        "the network with `seedagent repair`, or ship the drive)");
    result.drives.push_back({d.driveid(), "NeverReceived", "NeverReceived", 0, 0, 0});
  }
  // Every drive has finished: the data is in the account; the drives are packed for return shipping.
  job.mutable_properties()->set_state("Packaging");
  job.mutable_properties()->set_percentcomplete(100);
  ASSIGN_OR_RETURN(result.job, admin.DatacenterUpdate(ref, job));
  return result;
}

absl::StatusOr<proto::Job> ShipBack(const ShipBackOptions& o) {
  ArmImportJobClient client(o.transport, o.control_plane, o.token);
  SimAdmin admin(o.transport, o.control_plane, o.token);
  JobRef ref{o.subscription, o.resource_group, o.job_name};
  ASSIGN_OR_RETURN(proto::Job job, client.GetJob(ref));
  if (job.properties().state() != "Packaging") {
    return absl::FailedPreconditionError(absl::StrCat("import job ", o.job_name, " is ", job.properties().state(),
                                                      ", not Packaging: there is nothing to ship back"));
  }
  // Completed when every drive imported without errors, Closed otherwise (Azure's rule); each drive returns.
  bool clean = true;
  for (auto& d : *job.mutable_properties()->mutable_drivelist()) {
    clean &= d.state() == "Completed";
    if (d.state() != "NeverReceived") d.set_state("ShippedBack");
  }
  job.mutable_properties()->set_state(clean ? "Completed" : "Closed");
  return admin.DatacenterUpdate(ref, job);
}

}  // namespace vmb::ie
