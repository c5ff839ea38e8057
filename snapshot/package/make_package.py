#!/usr/bin/env python3
"""Builds the handler package the guest agent downloads and unzips into /var/lib/waagent/<Name>-<Version>/.

usage: make_package.py OUT.zip VERSION HandlerManifest.json vmsnapshot

The zip holds HandlerManifest.json at its root (the agent reads it there), the vmsnapshot binary (mode 0755; the
manifest's commands name it relative to the handler folder) and manifest.xml, the publisher's extension definition
(namespace, type, version) as Azure's extension publishing expects it. Entries carry a fixed time so the zip is
reproducible.
"""
import sys
import zipfile

MANIFEST_XML = """<?xml version="1.0" encoding="utf-8"?>
<ExtensionImage xmlns="http://schemas.microsoft.com/windowsazure">
  <ProviderNameSpace>Microsoft.Azure.RecoveryServices</ProviderNameSpace>
  <Type>VMSnapshotLinux</Type>
  <Version>{version}</Version>
  <Label>Azure Backup VM snapshot extension for Linux (open implementation)</Label>
  <HostingResources>VmRole</HostingResources>
  <MediaLink></MediaLink>
  <Description>Takes application-consistent snapshots of a VM's disk blobs for Azure Backup.</Description>
  <IsInternalExtension>true</IsInternalExtension>
  <IsJsonExtension>true</IsJsonExtension>
  <SupportedOS>Linux</SupportedOS>
  <CompanyName>vmbackup</CompanyName>
</ExtensionImage>
"""


def add(z, name, data, mode):
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, data)


def main():
    out, version, manifest, binary = sys.argv[1:5]
    with zipfile.ZipFile(out, "w") as z:
        add(z, "HandlerManifest.json", open(manifest, "rb").read(), 0o644)
        add(z, "manifest.xml", MANIFEST_XML.format(version=version).encode(), 0o644)
        add(z, "vmsnapshot", open(binary, "rb").read(), 0o755)


if __name__ == "__main__":
    main()
