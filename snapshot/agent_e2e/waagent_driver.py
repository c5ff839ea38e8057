#!/usr/bin/python3
"""The real Azure Linux guest agent (Debian's waagent 2.7.3, module azurelinuxagent) drives the VMSnapshot handler.

Everything the agent does on a VM is done here by the agent's own code, unmodified:
  - WireProtocol.detect(): the transport certificate (CryptUtil.gen_transport_cert, openssl) and the first goal state;
  - WireClient.update_goal_state(): GoalState, HostingEnv, SharedConfig, Certificates (decrypts the tenant certificate
    with the transport key and writes <THUMBPRINT>.crt/.prv into Lib.Dir), ExtensionsConfig (parsed into Extension
    objects by ExtensionsGoalStateFromExtensionsConfig), the extension manifest (ExtensionManifest);
  - ExtHandlersHandler.run(): decide_version, download (the agent's unzip into <Lib.Dir>/<Name>-<Version>),
    initialize, create_handler_env, update_settings, install/enable/disable/update/uninstall through launch_command
    (the agent's command line, cwd and environment: ConfigSequenceNumber, AZURE_GUEST_AGENT_*, VERSION), the update
    sequence with copy_status_files, cleanup;
  - ExtHandlersHandler.report_ext_handlers_status(): collect_ext_status / parse_ext_status, vm_status_to_v1 and the
    StatusBlob upload (direct channel) of what the host receives.

What is not the agent is the other side of the wire, played by this file as the "fabric": the documents the WireServer
would serve (answered from memory instead of HTTP from 168.63.129.16: WireClient.fetch_config / fetch / stream are the
only overridden methods, plus a HostGAPlugin that is unreachable, as it is when its port does not answer), the tenant
certificate (openssl), the protected settings encrypted to it (openssl cms), and the blobs (Microsoft's
@azure/storage-blob SDK through blobs.js, against Azurite). The judge of the extension's behaviour is the agent's own
status parsing, the status blob and the snapshots the SDK lists; no project code is used.

Environment:
  WORK             scratch folder (default: $TEST_TMPDIR/agent_e2e or a temp dir)
  ENDPOINT         Azurite blob endpoint, http://127.0.0.1:PORT/devstoreaccount1
  NODE_PATH        node_modules holding @azure/storage-blob (blobs.js runs with it)
  HANDLER_ZIP      the handler package (HandlerManifest.json + vmsnapshot at the zip root)
  HANDLER_ZIP_V2   optional: the package of the next version (the update flow); else HANDLER_ZIP again
  WAAGENT_PYTHONPATH  the dist-packages folder holding azurelinuxagent (put on sys.path before importing it)
  BLOBS_JS         optional: blobs.js (default: beside this file)
  NODE             optional: the node binary (default: node on PATH)
  E2E_CASES        optional comma list of VMs to run: linux,windows,nosettings (default: all)
Debug switches (for running today's binary by hand; each one makes the run FAIL, so a test can never pass with them):
  VMSNAPSHOT_E2E_DEBUG_HE_VERSION_STRING=1  rewrite the agent's HandlerEnvironment.json "version": 1.0 as "1.0"
  VMSNAPSHOT_E2E_DEBUG_CERT_DIR_ARG=1       append "--cert-dir .." (= Lib.Dir, from the handler folder) to the
                                            commands of the handler manifest in a repacked copy of the package

Output: PASS:/FAIL: lines, the agent's calls per goal state, the v1 status JSON the host receives (success and 402
samples), and a closing "N passed, M failed"; exit status 1 on any failure. SAS signatures are redacted (sig=...).
"""

import base64
import copy
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import uuid
import zipfile
from xml.sax.saxutils import escape as xml_escape, quoteattr

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------------------------------------------------
# Output


def redact(text):
    """SAS signatures (raw, JSON-escaped or URL-encoded) never reach the output."""
    text = re.sub(r'(sig=)[^&\s"\'\\<]+', r"\1REDACTED", str(text))
    return re.sub(r"(sig%3[dD])[^&\s\"'\\<%]+", r"\1REDACTED", text)


def out(line=""):
    print(redact(line), flush=True)


class Results(object):
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []

    def check(self, case, what, ok, detail=None, info=None):
        """`detail` explains a failure; `info` is shown on a pass too."""
        if ok:
            self.passed += 1
            out("PASS: [{0}] {1}{2}".format(case, what, " ({0})".format(info) if info else ""))
        else:
            self.failed += 1
            self.failures.append("[{0}] {1}".format(case, what))
            detail = detail if detail is not None else info
            out("FAIL: [{0}] {1}{2}".format(case, what, " -- {0}".format(detail) if detail else ""))
        return ok

    def note(self, case, text):
        out("NOTE: [{0}] {1}".format(case, text))


R = Results()

# ---------------------------------------------------------------------------------------------------------------------
# Configuration from the environment

DEBUG_HE_VERSION_STRING = os.environ.get("VMSNAPSHOT_E2E_DEBUG_HE_VERSION_STRING") == "1"
DEBUG_CERT_DIR_ARG = os.environ.get("VMSNAPSHOT_E2E_DEBUG_CERT_DIR_ARG") == "1"

# The wire server address handed to the agent. Nothing connects to it (the fabric answers every WireServer request
# in memory); a loopback address keeps any mistake on this machine. On Azure it is 168.63.129.16.
WIRE_ENDPOINT = "127.0.0.1"
LINUX_NAME = "Microsoft.Azure.RecoveryServices.VMSnapshotLinux"
WINDOWS_NAME = "Microsoft.Azure.RecoveryServices.VMSnapshot"
# Handler versions: the packages' own (manifest.xml <Version>, else the zip's name <Name>-<Version>.zip), as the
# repository would list them; V2 is the next version when only one package is given.
V1 = None
V2 = None
VM_TYPE = "microsoft.compute/virtualmachines"
UNIX_EPOCH_TICKS = 621355968000000000
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

# Variables the agent sets for a command; a real agent's own environment has none of them, so neither does ours
# (the agent merges os.environ over its own values: env.update(os.environ)).
AGENT_ENV_KEYS = ("ConfigSequenceNumber", "ConfigExtensionName", "VERSION")
for _k in list(os.environ):
    if _k in AGENT_ENV_KEYS or _k.startswith("AZURE_GUEST_AGENT_"):
        del os.environ[_k]


def require_env(name):
    value = os.environ.get(name)
    if not value:
        out("FAIL: [setup] ${0} is not set (run snapshot/agent_e2e/agent_e2e_test.sh through tools/test.sh)".format(name))
        sys.exit(1)
    return value


def ticks_at(unix_seconds):
    return int(round(unix_seconds * 10 ** 7)) + UNIX_EPOCH_TICKS


def run(cmd, data=None, check=True, env=None):
    p = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if check and p.returncode != 0:
        raise RuntimeError("{0} failed ({1}): {2}".format(" ".join(cmd[:3]), p.returncode,
                                                          p.stderr.decode("utf-8", "replace")[-2000:]))
    return p


# ---------------------------------------------------------------------------------------------------------------------
# Storage (Microsoft's JS SDK)


class Blobs(object):
    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.node = os.environ.get("NODE") or shutil.which("node") or "node"
        self.script = os.environ.get("BLOBS_JS") or os.path.join(HERE, "blobs.js")
        self.env = dict(os.environ, ENDPOINT=endpoint)

    def _node(self, *args):
        p = run([self.node, self.script] + list(args), env=self.env, check=False)
        if p.returncode != 0:
            raise RuntimeError("blobs.js {0}: {1}".format(args[0], redact(p.stderr.decode("utf-8", "replace"))))
        return p.stdout

    def setup(self, container, disks=2, mib=4):
        return json.loads(self._node("setup", container, str(disks), str(mib)))

    def snapshot_counts(self, container):
        return json.loads(self._node("count-snapshots", container))

    def get(self, url):
        return self._node("get-blob", url).decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------------------------------
# The agent (imported from WAAGENT_PYTHONPATH)


def import_agent():
    path = require_env("WAAGENT_PYTHONPATH")
    sys.dont_write_bytecode = True  # leave the unpacked package as fetched
    if not os.path.isdir(os.path.join(path, "azurelinuxagent")):
        out("FAIL: [setup] {0} holds no azurelinuxagent package (tools/fetch_waagent.sh brings it)".format(path))
        sys.exit(1)
    sys.path.insert(0, path)
    try:
        import azurelinuxagent.common.version as version  # noqa: F401
        import azurelinuxagent.ga.exthandlers  # noqa: F401
        import azurelinuxagent.common.protocol.wire  # noqa: F401
    except ImportError as e:
        out("FAIL: [setup] the agent's module does not import with {0}: {1} (Debian's waagent depends on "
            "python3-distro, python3-pkg-resources and distutils: python3-distutils or python3-setuptools)".format(
                sys.executable, e))
        sys.exit(1)
    return version


version = import_agent()
import azurelinuxagent.common.conf as conf  # noqa: E402
import azurelinuxagent.common.event as event  # noqa: E402
import azurelinuxagent.common.logger as logger  # noqa: E402
from azurelinuxagent.common.cgroupconfigurator import CGroupConfigurator  # noqa: E402
from azurelinuxagent.common.exception import ExtensionError, ExtensionOperationError  # noqa: E402
from azurelinuxagent.common.protocol.goal_state import GoalState  # noqa: E402
from azurelinuxagent.common.protocol.hostplugin import HostPluginProtocol  # noqa: E402
from azurelinuxagent.common.protocol.restapi import ExtensionStatus  # noqa: E402
from azurelinuxagent.common.protocol.wire import WireClient, WireProtocol  # noqa: E402
from azurelinuxagent.ga.exthandlers import ExtHandlerInstance, ExtHandlersHandler, parse_ext_status  # noqa: E402

# ---------------------------------------------------------------------------------------------------------------------
# Observing the agent (records calls, changes nothing)

TRACE = []   # "[Name-Version] method(args)" in call order
SPAWNS = []  # every process the agent started: the final command line, cwd, the agent's variables, exit status


def _label(inst):
    return "{0}-{1}".format(inst.ext_handler.name.split(".")[-1], inst.ext_handler.version)


def _seq_of(ext):
    return "seq {0}".format(ext.sequenceNumber) if ext is not None else "no settings"


def _trace(cls, name, describe):
    original = getattr(cls, name)

    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        TRACE.append("[{0}] {1}".format(_label(self), describe(*args, **kwargs)))
        return original(self, *args, **kwargs)

    setattr(cls, name, wrapper)


def install_observers():
    _trace(ExtHandlerInstance, "decide_version", lambda target_state=None, extension=None: "decide_version(target {0})".format(target_state))
    _trace(ExtHandlerInstance, "download", lambda: "download() -> unzip into the handler folder")
    _trace(ExtHandlerInstance, "initialize", lambda: "initialize()")
    _trace(ExtHandlerInstance, "create_handler_env", lambda: "create_handler_env()")
    _trace(ExtHandlerInstance, "update_settings", lambda extension: "update_settings({0})".format(_seq_of(extension)))
    _trace(ExtHandlerInstance, "install", lambda uninstall_exit_code=None, extension=None:
           "install(uninstall_exit_code={0})".format(uninstall_exit_code))
    _trace(ExtHandlerInstance, "enable", lambda extension=None, uninstall_exit_code=None:
           "enable({0})".format(_seq_of(extension)))
    _trace(ExtHandlerInstance, "disable", lambda extension=None, ignore_error=False: "disable()")
    _trace(ExtHandlerInstance, "update", lambda handler_version=None, disable_exit_codes=None, updating_from_version=None, extension=None:
           "update(updating_from_version={0}, disable_exit_codes={1})".format(
               updating_from_version, dict(disable_exit_codes or {})))
    _trace(ExtHandlerInstance, "uninstall", lambda extension=None: "uninstall()")
    _trace(ExtHandlerInstance, "update_with_install", lambda uninstall_exit_code=None, extension=None:
           "update_with_install(uninstall_exit_code={0})".format(uninstall_exit_code))
    _trace(ExtHandlerInstance, "copy_status_files", lambda old: "copy_status_files(from {0})".format(_label(old)))
    _trace(ExtHandlerInstance, "remove_ext_handler", lambda: "remove_ext_handler()")
    _trace(ExtHandlerInstance, "set_handler_state", lambda state: "set_handler_state({0})".format(state))
    _trace(ExtHandlerInstance, "launch_command", lambda cmd, cmd_name=None, timeout=300, extension_error_code=None, env=None, extension=None:
           "launch_command({0!r}, {1})".format(cmd, cmd_name))

    impl = CGroupConfigurator._Impl
    original = impl.start_extension_command

    @functools.wraps(original)
    def start_extension_command(self, *args, **kwargs):
        # The agent calls it with keywords only (launch_command).
        env = kwargs.get("env") or {}
        record = {"name": kwargs.get("extension_name"), "cmd_name": kwargs.get("cmd_name"),
                  "command": kwargs.get("command"), "cwd": kwargs.get("cwd"), "shell": kwargs.get("shell"),
                  "env": {k: v for k, v in env.items() if k in AGENT_ENV_KEYS or k.startswith("AZURE_GUEST_AGENT_")},
                  "exit": None, "output": ""}
        SPAWNS.append(record)
        try:
            result = original(self, *args, **kwargs)
            record["exit"] = 0
            record["output"] = result
            return result
        except ExtensionOperationError as e:
            record["exit"] = e.exit_code
            record["output"] = str(e)
            raise
        except ExtensionError as e:
            record["exit"] = "error: {0}".format(e)
            record["output"] = str(e)
            raise

    impl.start_extension_command = start_extension_command


# ---------------------------------------------------------------------------------------------------------------------
# The other side of the wire: what the WireServer and the extension repository (PIR) would serve


class Fabric(object):
    """Serves the goal state documents by URI, as the WireServer does, from this process's memory."""

    def __init__(self, vm_name, workdir, tenant):
        self.vm = vm_name
        self.dir = workdir
        self.tenant = tenant
        self.incarnation = 0
        self.container_id = str(uuid.uuid4())
        self.instance = "_" + vm_name
        self.base = "http://{0}:80".format(WIRE_ENDPOINT)
        self.extensions_config = ""
        self.status_upload_blob = None
        self.packages = {}      # uri -> zip path
        self.manifests = {}     # uri -> xml
        self.served = []        # uris served for the current goal state (printed per step)

    # -- documents
    def _machine_uri(self, query):
        return "{0}/machine/{1}/{2}?{3}".format(self.base, self.container_id, self.instance, query)

    def goal_state_xml(self):
        inc = self.incarnation
        cfg = lambda t: xml_escape(self._machine_uri("comp=config&type={0}&incarnation={1}".format(t, inc)))  # noqa: E731
        return """<?xml version="1.0" encoding="utf-8"?>
<GoalState xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="goalstate10.xsd">
  <Version>2012-11-30</Version>
  <Incarnation>{inc}</Incarnation>
  <Machine><ExpectedState>Started</ExpectedState><StopRolesDeadlineHint>300000</StopRolesDeadlineHint><LBProbePorts><Port>16001</Port></LBProbePorts><ExpectHealthReport>FALSE</ExpectHealthReport></Machine>
  <Container>
    <ContainerId>{cid}</ContainerId>
    <RoleInstanceList>
      <RoleInstance>
        <InstanceId>{inst}</InstanceId>
        <State>Started</State>
        <Configuration>
          <HostingEnvironmentConfig>{he}</HostingEnvironmentConfig>
          <SharedConfig>{sc}</SharedConfig>
          <ExtensionsConfig>{ec}</ExtensionsConfig>
          <FullConfig>{fc}</FullConfig>
          <Certificates>{certs}</Certificates>
          <ConfigName>{cid}.{inc}.{cid}.{inc}.{inst}.1.xml</ConfigName>
        </Configuration>
      </RoleInstance>
    </RoleInstanceList>
  </Container>
</GoalState>
""".format(inc=inc, cid=self.container_id, inst=self.instance, he=cfg("hostingEnvironmentConfig"),
           sc=cfg("sharedConfig"), ec=cfg("extensionsConfig"), fc=cfg("fullConfig"),
           certs=xml_escape(self._machine_uri("comp=certificates&incarnation={0}".format(inc))))

    def hosting_env_xml(self):
        return """<HostingEnvironmentConfig version="1.0.0.0" goalStateIncarnation="{inc}">
  <Deployment name="{cid}" guid="{{{cid}}}" incarnation="{inc}"><Service name="{vm}" guid="{{00000000-0000-0000-0000-000000000000}}" /></Deployment>
  <Incarnation number="{inc}" instance="{inst}" guid="{{{g}}}" />
  <Role guid="{{{g}}}" name="{vm}" hostingEnvironmentVersion="1" software="" softwareType="ApplicationPackage" entryPoint="" parameters="" settleTimeSeconds="10" />
</HostingEnvironmentConfig>
""".format(inc=self.incarnation, cid=self.container_id, inst=self.instance, vm=self.vm, g=uuid.uuid4())

    def shared_config_xml(self):
        return """<?xml version="1.0" encoding="utf-8"?>
<SharedConfig version="1.0.0.0" goalStateIncarnation="{inc}">
  <Incarnation number="{inc}" instance="{inst}" guid="{{{g}}}" />
  <Instances><Instance id="{inst}" address="127.0.0.1"><FaultDomains randomId="0" updateId="0" updateCount="0" /><InputEndpoints /></Instance></Instances>
</SharedConfig>
""".format(inc=self.incarnation, inst=self.instance, g=uuid.uuid4())

    def certificates_xml(self, headers):
        """The tenant certificate and key as PKCS#12, CMS-enveloped to the agent's transport certificate (which the
        agent sends in x-ms-guest-agent-public-x509-cert), with the cipher the agent asks for."""
        b64 = (headers or {}).get("x-ms-guest-agent-public-x509-cert")
        if not b64:
            raise RuntimeError("certificates requested without the transport certificate header")
        transport = os.path.join(self.dir, "fabric-transport-{0}.pem".format(self.incarnation))
        with open(transport, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\n")
            for i in range(0, len(b64), 64):
                f.write(b64[i:i + 64] + "\n")
            f.write("-----END CERTIFICATE-----\n")
        cipher = {"DES_EDE3_CBC": "-des3"}.get(headers.get("x-ms-cipher-name"), "-aes128")
        der = run([OPENSSL, "cms", "-encrypt", "-binary", "-outform", "DER", cipher, "-in", self.tenant.p12,
                   "-recip", transport, "-keyopt", "rsa_padding_mode:oaep"]).stdout
        data = base64.b64encode(der).decode()
        wrapped = "\n".join(data[i:i + 64] for i in range(0, len(data), 64))
        return """<?xml version="1.0" encoding="utf-8"?>
<CertificateFile xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="certificates10.xsd">
  <Version>2012-11-30</Version>
  <Incarnation>{inc}</Incarnation>
  <Format>Pkcs7BlobWithPfxContents</Format>
  <Data>{data}
</Data>
</CertificateFile>""".format(inc=self.incarnation, data=wrapped)

    @staticmethod
    def versions_xml():
        return """<?xml version="1.0" encoding="utf-8"?>
<Versions><Preferred><Version>2012-11-30</Version></Preferred><Supported><Version>2012-11-30</Version><Version>2010-12-15</Version></Supported></Versions>
"""

    def manifest_uri(self, name):
        return "{0}/pir/{1}/{1}_manifest.xml".format(self.base, name)

    def add_package(self, name, ver, zip_path):
        uri = "{0}/pir/{1}/{1}__{2}.zip".format(self.base, name, ver)
        self.packages[uri] = zip_path
        plugins = "".join(
            "<Plugin><Version>{0}</Version><Uris><Uri>{1}</Uri></Uris></Plugin>".format(
                v, xml_escape(u)) for u, v in sorted((u, u.rsplit("__", 1)[1][:-4]) for u in self.packages
                                                     if "/pir/{0}/".format(name) in u))
        self.manifests[self.manifest_uri(name)] = (
            '<?xml version="1.0" encoding="utf-8"?>\n<PluginVersionManifest '
            'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Plugins>{0}</Plugins>'
            '<InternalPlugins /></PluginVersionManifest>\n'.format(plugins))

    def publish(self, plugins, in_svd_seq_no=None):
        """A new goal state: ExtensionsConfig with `plugins` (PluginSpec list); the incarnation moves on."""
        self.incarnation += 1
        parts = []
        settings = []
        for p in plugins:
            parts.append('<Plugin name={0} version={1} location={2} state={3} autoUpgrade="false" failoverlocation={2} '
                         'runAsStartupTask="false" isJson="true" useExactVersion="true" />'.format(
                             quoteattr(p.name), quoteattr(p.version), quoteattr(self.manifest_uri(p.name)),
                             quoteattr(p.state)))
            if p.settings is not None:
                settings.append('<Plugin name={0} version={1}>\n<RuntimeSettings seqNo="{2}">{3}</RuntimeSettings>\n'
                                '</Plugin>'.format(quoteattr(p.name), quoteattr(p.version), p.seq,
                                                   xml_escape(json.dumps(p.settings, indent=2))))
        now = time.time()
        self.extensions_config = """<?xml version="1.0" encoding="utf-8"?>
<Extensions version="1.0.0.0" goalStateIncarnation="{inc}"><GuestAgentExtension xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
  <GAFamilies><GAFamily><Name>Prod</Name><Uris><Uri>{ga}</Uri></Uris></GAFamily></GAFamilies>
  <Location>local</Location>
  <ServiceName>CRP</ServiceName>
</GuestAgentExtension>
<StatusUploadBlob statusBlobType="BlockBlob">{status}</StatusUploadBlob>
<Plugins>
  {plugins}
</Plugins>
<PluginSettings>
  {settings}
</PluginSettings>
<InVMGoalStateMetaData inSvdSeqNo="{svd}" createdOnTicks="{ticks}" activityId="{a}" correlationId="{c}" /></Extensions>
""".format(inc=self.incarnation, ga=xml_escape(self.base + "/pir/ga/Prod_manifest.xml"),
           status=xml_escape(self.status_upload_blob), plugins="\n  ".join(parts), settings="\n  ".join(settings),
           svd=in_svd_seq_no if in_svd_seq_no is not None else self.incarnation, ticks=ticks_at(now),
           a=uuid.uuid4(), c=uuid.uuid4())
        self.served = []

    # -- the endpoints
    def serve(self, uri, headers):
        """WireServer GET (WireClient.fetch_config)."""
        u = urllib.parse.urlparse(uri)
        q = urllib.parse.parse_qs(u.query)
        comp = q.get("comp", [""])[0]
        if comp == "versions":
            doc = self.versions_xml()
        elif comp == "goalstate":
            doc = self.goal_state_xml()
        elif comp == "certificates":
            doc = self.certificates_xml(headers)
        elif comp == "config":
            kind = q.get("type", [""])[0]
            doc = {"hostingEnvironmentConfig": self.hosting_env_xml, "sharedConfig": self.shared_config_xml,
                   "extensionsConfig": lambda: self.extensions_config}[kind]()
        else:
            raise RuntimeError("the fabric has no document at {0}".format(uri))
        self.served.append("GET {0}".format(u.path + "?" + u.query))
        return doc

    def blob(self, uri):
        """Extension repository GET (WireClient.fetch / stream): manifests and packages."""
        if uri in self.manifests:
            self.served.append("GET manifest {0}".format(uri.rsplit("/", 1)[1]))
            return self.manifests[uri].encode()
        if uri in self.packages:
            self.served.append("GET package {0}".format(uri.rsplit("/", 1)[1]))
            with open(self.packages[uri], "rb") as f:
                return f.read()
        return None


class PluginSpec(object):
    def __init__(self, name, version, state="enabled", seq=None, settings=None):
        self.name = name
        self.version = version
        self.state = state
        self.seq = seq
        self.settings = settings


class UnreachableHostPlugin(HostPluginProtocol):
    """The HostGAPlugin (port 32526) does not answer here: its version probe finds no API version, as the real class
    does when the request fails, so the agent uses the direct channel for everything."""

    def get_api_versions(self):
        return []


class OfflineWireClient(WireClient):
    """The agent's WireClient; only the three methods that would open an HTTP connection to the WireServer or to the
    extension repository are answered by the fabric."""

    def __init__(self, endpoint, fabric):
        super(OfflineWireClient, self).__init__(endpoint)
        self.fabric = fabric

    def fetch_config(self, uri, headers):
        return self.decode_config(self.fabric.serve(uri, headers).encode("utf-8"))

    def fetch(self, uri, headers=None, use_proxy=None, decode=True, max_retry=None, retry_codes=None, ok_codes=None):
        data = self.fabric.blob(uri)
        if data is None:
            return None, None
        return (self.decode_config(data) if decode else data), []

    def stream(self, uri, destination, headers=None, use_proxy=None, max_retry=None):
        data = self.fabric.blob(uri)
        if data is None:
            return False
        with open(destination, "wb") as f:
            f.write(data)
        return True

    def get_host_plugin(self):
        if self._host_plugin is None:
            goal_state = GoalState(self)
            self._set_host_plugin(UnreachableHostPlugin(self.get_endpoint(), goal_state.container_id,
                                                        goal_state.role_config_name))
        return self._host_plugin


class OfflineWireProtocol(WireProtocol):
    def __init__(self, endpoint, fabric):  # pylint: disable=super-init-not-called
        self.client = OfflineWireClient(endpoint, fabric)


# ---------------------------------------------------------------------------------------------------------------------
# Keys and settings (the backup service's side), with openssl


class Tenant(object):
    """The VM certificate that protected settings are encrypted to (the agent receives it in the Certificates
    document and writes <THUMBPRINT>.crt/.prv)."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "tenant")
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self.crt = os.path.join(self.dir, "tenant.crt")
        self.key = os.path.join(self.dir, "tenant.key")
        self.p12 = os.path.join(self.dir, "tenant.p12")
        run([OPENSSL, "req", "-x509", "-nodes", "-subj", "/CN=VMSnapshot e2e tenant", "-days", "2", "-newkey",
             "rsa:2048", "-keyout", self.key, "-out", self.crt])
        run([OPENSSL, "pkcs12", "-export", "-in", self.crt, "-inkey", self.key, "-passout", "pass:", "-out", self.p12])
        for p in (self.key, self.p12):
            os.chmod(p, 0o600)
        fp = run([OPENSSL, "x509", "-in", self.crt, "-noout", "-fingerprint", "-sha1"]).stdout.decode()
        self.thumbprint = fp.strip().split("=", 1)[1].replace(":", "").upper()

    def encrypt(self, plaintext, cipher):
        der = run([OPENSSL, "cms", "-encrypt", "-binary", "-outform", "DER", cipher, self.crt],
                  data=plaintext.encode("utf-8")).stdout
        return base64.b64encode(der).decode()


def snapshot_settings(tenant, storage, task_id, ticks, cipher="-aes256"):
    """The handler settings the backup service sends for one snapshot job."""
    object_str = base64.b64encode(json.dumps({
        "blobSASUri": [d["sasUri"] for d in storage["disks"]],
        "backupMetadata": [{"Key": "backupJobId", "Value": task_id}],
    }).encode()).decode()
    protected = json.dumps({"objectStr": object_str, "logsBlobUri": storage["logsBlobUri"],
                            "statusBlobUri": storage["statusBlobUri"]})
    return {"runtimeSettings": [{"handlerSettings": {
        "protectedSettingsCertThumbprint": tenant.thumbprint,
        "protectedSettings": tenant.encrypt(protected, cipher),
        "publicSettings": {
            "locale": "en-us",
            "taskId": task_id,
            "commandToExecute": "snapshot",
            "commandStartTimeUTCTicks": str(ticks),
            "vmType": VM_TYPE,
            "objectStr": "",
            "logsBlobUri": "",
            "statusBlobUri": storage["statusBlobUri"],
        },
    }}]}


# ---------------------------------------------------------------------------------------------------------------------
# Packages


def package(path, workdir, tag):
    """The package as served. With the cert-dir debug switch, a repacked copy whose commands take --cert-dir .."""
    if not DEBUG_CERT_DIR_ARG:
        return path
    repacked = os.path.join(workdir, "debug-{0}-{1}".format(tag, os.path.basename(path)))
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(repacked, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if os.path.basename(info.filename) == "HandlerManifest.json":
                manifest = json.loads(data)
                for k, v in manifest[0]["handlerManifest"].items():
                    if k.endswith("Command"):
                        manifest[0]["handlerManifest"][k] = v + " --cert-dir .."
                data = json.dumps(manifest, indent=2).encode()
            dst.writestr(info, data)
    return repacked


def package_version(path):
    with zipfile.ZipFile(path) as z:
        if "manifest.xml" in z.namelist():
            m = re.search(r"<Version>\s*([0-9.]+)\s*</Version>", z.read("manifest.xml").decode("utf-8", "replace"))
            if m:
                return m.group(1)
    m = re.search(r"-(\d+(?:\.\d+)+)\.zip$", os.path.basename(path))
    return m.group(1) if m else None


def next_version(v):
    parts = v.split(".")
    parts[-1] = str(int(parts[-1]) + 1)
    return ".".join(parts)


# ---------------------------------------------------------------------------------------------------------------------
# One VM: an agent with its own Lib.Dir, talking to its fabric


class VM(object):
    def __init__(self, name, work, blobs):
        self.name = name
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        self.lib = os.path.join(self.dir, "var/lib/waagent")
        self.ext_log = os.path.join(self.dir, "var/log/azure")
        self.blobs = blobs
        os.makedirs(self.lib, mode=0o700)
        os.makedirs(self.ext_log, mode=0o755)

        # The agent's configuration (waagent.conf) pointing every path into this VM's folder.
        conf_file = os.path.join(self.dir, "waagent.conf")
        with open(conf_file, "w") as f:
            f.write("\n".join([
                "Lib.Dir={0}".format(self.lib),
                "Extension.LogDir={0}".format(self.ext_log),
                "OS.OpensslPath={0}".format(OPENSSL),
                "Extensions.Enabled=y",
                "Extensions.GoalStatePeriod=6",
                "AutoUpdate.Enabled=n",
                "Debug.EnableFastTrack=n",
                "Debug.EnableGAVersioning=n",
                "CGroups.Enabled=n",
                "OS.EnableFirewall=n",
                "Logs.Verbose=n",
                "Logs.Collect=n",
                "Provisioning.Agent=disabled",
                "HttpProxy.Host=None",
                "",
            ]))
        conf.load_conf_from_file(conf_file)
        logger.DEFAULT_LOGGER.appenders = []
        self.agent_log = os.path.join(self.dir, "waagent.log")
        logger.add_logger_appender(logger.AppenderType.FILE, logger.LogLevel.INFO, path=self.agent_log)
        event.init_event_status(conf.get_lib_dir())
        event.init_event_logger(os.path.join(conf.get_lib_dir(), event.EVENTS_DIRECTORY))

        self.tenant = Tenant(self.dir)
        self.container = "{0}disks".format(name.replace("-", ""))
        self.storage = blobs.setup(self.container)
        self.fabric = Fabric(name, self.dir, self.tenant)
        self.fabric.status_upload_blob = self.storage["vmStatusBlobUri"]
        self.fabric.publish([])  # incarnation 1: a provisioned VM without extensions
        self.protocol = OfflineWireProtocol(WIRE_ENDPOINT, self.fabric)
        # The agent's start: protocol detection makes the transport certificate (openssl req) and fetches the
        # first goal state, whose Certificates document brings the tenant certificate; then the first run.
        self.protocol.detect()
        self.handler = ExtHandlersHandler(self.protocol)
        self.handler.run()
        self.handler.report_ext_handlers_status(incarnation_changed=True)
        out("")
        out("== {0}: agent start, Lib.Dir {1} (WireProtocol.detect(), ExtHandlersHandler.run(), "
            "report_ext_handlers_status(); incarnation 1, no extensions)".format(name, self.lib))
        out("   fabric served: {0}".format("; ".join(self.fabric.served)))

    def rel(self, path):
        return os.path.relpath(path, self.dir) if isinstance(path, str) and path.startswith(self.dir) else path

    def handler_dir(self, name, ver):
        return os.path.join(self.lib, "{0}-{1}".format(name, ver))

    def goal_state(self, plugins, title):
        """What the agent does for a new incarnation (UpdateHandler._process_goal_state): update the goal state,
        run the extension handlers, report status."""
        self.fabric.publish(plugins)
        del TRACE[:]
        del SPAWNS[:]
        before = self.blobs.snapshot_counts(self.container)
        self.protocol.update_goal_state()
        self.handler.run()
        vm_status = self.handler.report_ext_handlers_status(incarnation_changed=True)
        after = self.blobs.snapshot_counts(self.container)
        blob_data = self.protocol.get_status_blob_data()
        step = Step(self, title, list(TRACE), list(SPAWNS), vm_status, blob_data, before, after)
        step.print_calls()
        return step


class Step(object):
    def __init__(self, vm, title, trace, spawns, vm_status, blob_data, before, after):
        self.vm = vm
        self.title = title
        self.trace = trace
        self.spawns = spawns
        self.vm_status = vm_status
        self.blob_data = blob_data
        self.v1 = json.loads(blob_data) if blob_data else None
        self.before = before
        self.after = after

    def new_snapshots(self):
        return {d["name"]: self.after.get(d["name"], 0) - self.before.get(d["name"], 0)
                for d in self.vm.storage["disks"]}

    def print_calls(self):
        out("")
        out("== {0}: {1} (incarnation {2})".format(self.vm.name, self.title, self.vm.fabric.incarnation))
        out("   fabric served: {0}".format("; ".join(self.vm.fabric.served)))
        out("   agent calls:")
        for t in self.trace:
            out("     {0}".format(t))
        out("   processes the agent started:")
        for s in self.spawns:
            out("     {0} [{1}] cwd={2} exit={3}".format(self.vm.rel(s["command"]), s["cmd_name"], self.vm.rel(s["cwd"]),
                                                          s["exit"]))
            out("       env {0}".format(json.dumps({k: self.vm.rel(v) for k, v in sorted(s["env"].items())})))
        out("   snapshots taken: {0}".format(self.new_snapshots()))

    def spawn(self, cmd_name, handler_version=None):
        found = [s for s in self.spawns if s["cmd_name"] == cmd_name and
                 (handler_version is None or s["env"].get("AZURE_GUEST_AGENT_EXTENSION_VERSION") == handler_version)]
        return found[-1] if found else None

    def handler_v1(self, name):
        if not self.v1:
            return None
        for h in self.v1["aggregateStatus"]["handlerAggregateStatus"]:
            if h["handlerName"] == name:
                return h
        return None

    def agent_handler_status(self, name):
        if self.vm_status is None:
            return None
        for h in self.vm_status.vmAgent.extensionHandlers:
            if h.name == name:
                return h
        return None


# ---------------------------------------------------------------------------------------------------------------------
# Checks on the outcome


def load_json(path):
    with open(path) as f:
        return json.load(f)


def check_spawn(case, step, cmd_name, version=None, seq=None, want_exit=0):
    s = step.spawn(cmd_name, version)
    if not R.check(case, "the agent ran `{0}`{1}".format(cmd_name, " of " + version if version else ""), s is not None,
                   "not started; agent calls: {0}".format(step.trace)):
        return None
    base = step.vm.handler_dir(s["name"].rsplit("-", 1)[0], s["env"].get("AZURE_GUEST_AGENT_EXTENSION_VERSION"))
    R.check(case, "`{0}` ran in the handler folder with the manifest's command".format(cmd_name),
            s["cwd"] == base and s["command"].startswith(os.path.join(base, "vmsnapshot ")),
            "cwd {0}, command {1}".format(s["cwd"], s["command"]))
    if seq is not None:
        R.check(case, "`{0}` got ConfigSequenceNumber={1}".format(cmd_name, seq),
                s["env"].get("ConfigSequenceNumber") == str(seq), json.dumps(s["env"]))
    R.check(case, "`{0}` exited {1}".format(cmd_name, want_exit), s["exit"] == want_exit,
            "exit {0}: {1}".format(s["exit"], (s["output"] or "")[-1500:]))
    return s


def status_file(vm, name, ver, seq):
    return os.path.join(vm.handler_dir(name, ver), "status", "{0}.status".format(seq))


def check_status_file(case, vm, name, ver, seq, task_id, ticks, want_code, want_inner_status, n_snapshots):
    """The status file as VMBackup's HandlerUtil.do_status_report writes it (vmType microsoft.compute: the top-level
    status of a terminal state is success; the real status document is substatus[0].name). Returns the inner
    document's text (what the status blob must hold) or None."""
    path = status_file(vm, name, ver, seq)
    if not R.check(case, "status file {0}.status exists".format(seq), os.path.isfile(path), vm.rel(path)):
        return None
    try:
        data = load_json(path)
    except ValueError as e:
        R.check(case, "status file is JSON", False, str(e))
        return None
    R.check(case, "status file is a one-element array", isinstance(data, list) and len(data) == 1,
            json.dumps(data)[:300])
    if not isinstance(data, list) or not data:
        return None
    try:
        parsed = ExtensionStatus(name=name, seq_no=seq)
        parse_ext_status(parsed, data)
        R.check(case, "the agent's parse_ext_status accepts the file", True,
                info="status {0}, code {1}, {2} substatus".format(parsed.status, parsed.code, len(parsed.substatusList)))
    except ExtensionError as e:
        R.check(case, "the agent's parse_ext_status accepts the file", False, str(e))
    top = data[0]
    st = top.get("status", {})
    R.check(case, "status.name is the handler name from HandlerEnvironment ({0})".format(name), st.get("name") == name,
            "name {0!r}".format(st.get("name")))
    R.check(case, "status.operation is Enable", st.get("operation") == "Enable", repr(st.get("operation")))
    R.check(case, "status.status is success (vmType {0}, terminal)".format(VM_TYPE), st.get("status") == "success",
            repr(st.get("status")))
    R.check(case, "status.code is {0}".format(want_code), st.get("code") in (want_code if isinstance(want_code, tuple) else (want_code,)),
            repr(st.get("code")))
    fm = st.get("formattedMessage") or {}
    R.check(case, "status.formattedMessage has lang and message", "lang" in fm and "message" in fm, json.dumps(fm)[:200])
    R.check(case, "status.taskId is the job's", st.get("taskId") == task_id, repr(st.get("taskId")))
    R.check(case, "status.commandStartTimeUTCTicks is the job's", st.get("commandStartTimeUTCTicks") == str(ticks),
            repr(st.get("commandStartTimeUTCTicks")))
    R.check(case, "top-level version and timestampUTC present", "version" in top and "timestampUTC" in top,
            ",".join(sorted(top)))
    sub = st.get("substatus")
    if not R.check(case, "status.substatus holds one entry", isinstance(sub, list) and len(sub) == 1,
                   "substatus {0}".format(json.dumps(sub)[:200] if sub is not None else "missing")):
        return None
    s0 = sub[0]
    R.check(case, "substatus[0] is {code:\"0\", status:success}",
            s0.get("code") == "0" and s0.get("status") == "success",
            json.dumps({k: v for k, v in s0.items() if k != "name"}))
    R.check(case, "substatus[0] carries \"formattedMessage\": null (as HandlerUtil.do_status_report writes it)",
            "formattedMessage" in s0 and s0.get("formattedMessage") is None,
            json.dumps({k: v for k, v in s0.items() if k != "name"}))
    try:
        inner = json.loads(s0.get("name") or "")
    except ValueError as e:
        R.check(case, "substatus[0].name is the status document as a JSON string", False, str(e))
        return None
    ok = isinstance(inner, list) and len(inner) == 1 and isinstance(inner[0].get("status"), dict)
    if not R.check(case, "substatus[0].name is a one-element status array", ok, str(s0.get("name"))[:300]):
        return None
    ist = inner[0]["status"]
    R.check(case, "inner status is {0}, code {1}".format(want_inner_status, want_code),
            ist.get("status") == want_inner_status and ist.get("code") in (want_code if isinstance(want_code, tuple) else (want_code,)),
            "status {0!r} code {1!r}".format(ist.get("status"), ist.get("code")))
    R.check(case, "inner status names the handler and the job", ist.get("name") == name and
            ist.get("taskId") == task_id and ist.get("commandStartTimeUTCTicks") == str(ticks),
            json.dumps({k: ist.get(k) for k in ("name", "taskId", "commandStartTimeUTCTicks")}))
    infos = ist.get("snapshotInfo") or []
    disks = sorted(d["sasUri"].split("?", 1)[0] for d in vm.storage["disks"])
    if n_snapshots:
        good = sorted((i.get("blobUri") or "").split("?", 1)[0] for i in infos if i.get("isSuccessful"))
        R.check(case, "inner snapshotInfo: a successful snapshot with snapshotUri for every disk",
                good == disks and all(i.get("snapshotUri") for i in infos if i.get("isSuccessful")),
                json.dumps(infos)[:600])
    else:
        R.check(case, "inner snapshotInfo lists no successful snapshot", not any(i.get("isSuccessful") for i in infos),
                json.dumps(infos)[:600])
    return s0.get("name")


def check_agent_view(case, step, name, ver, seq, want_status, want_code):
    """What the agent collected (collect_ext_status -> parse_ext_status) and what it sends to the host (v1)."""
    hs = step.agent_handler_status(name)
    if not R.check(case, "the agent reports handler {0}".format(name), hs is not None):
        return None
    es = hs.extension_status
    R.check(case, "agent: handler status Ready", hs.status == "Ready", "{0}: {1}".format(hs.status, hs.message))
    if not R.check(case, "agent: an extension status for seq {0}".format(seq), es is not None and
                   str(es.sequenceNumber) == str(seq), "none" if es is None else "seq {0}".format(es.sequenceNumber)):
        return None
    R.check(case, "agent: extension status {0}, code {1}".format(want_status, want_code),
            es.status == want_status and es.code in (want_code if isinstance(want_code, tuple) else (want_code,)),
            "{0} {1}: {2}".format(es.status, es.code, (es.message or "")[:300]))
    R.check(case, "agent: one substatus, parsed", len(es.substatusList) == 1,
            "{0} substatus".format(len(es.substatusList)))
    h1 = step.handler_v1(name)
    ok = h1 is not None and h1.get("handlerVersion") == ver and h1.get("status") == "Ready" and \
        h1.get("runtimeSettingsStatus", {}).get("sequenceNumber") == seq
    R.check(case, "v1 handlerAggregateStatus: {0} {1} Ready, sequenceNumber {2}".format(name, ver, seq), ok,
            json.dumps(h1)[:400] if h1 else "absent")
    if h1 and "runtimeSettingsStatus" in h1:
        ss = h1["runtimeSettingsStatus"]["settingsStatus"]["status"]
        R.check(case, "v1 settingsStatus: {0}, code {1}, one substatus".format(want_status, want_code),
                ss.get("status") == want_status and ss.get("code") in (want_code if isinstance(want_code, tuple) else (want_code,))
                and len(ss.get("substatus", [])) == 1,
                json.dumps({k: ss.get(k) for k in ("status", "code", "operation")}))
    return h1


def check_vm_status_blob(case, step):
    """The agent's own upload of the VM status (StatusBlob, direct channel) is what the host reads."""
    uploaded = step.vm.blobs.get(step.vm.storage["vmStatusBlobUri"])
    R.check(case, "the agent uploaded its VM status (v1) to the status upload blob", uploaded == step.blob_data,
            info="{0} bytes uploaded, {1} prepared".format(len(uploaded), len(step.blob_data or "")))


def check_status_blob(case, vm, inner_text):
    if inner_text is None:
        return
    blob = vm.blobs.get(vm.storage["statusBlobUri"])
    R.check(case, "the status blob holds the document of substatus[0].name", blob == inner_text,
            "blob {0!r}... vs substatus {1!r}...".format(blob[:120], inner_text[:120]))


def check_snapshots(case, step, want):
    got = step.new_snapshots()
    R.check(case, "{0} new snapshot(s) per disk (SDK listing)".format(want), all(v == want for v in got.values()),
            info=json.dumps(got))


def print_v1(title, step, name):
    h1 = step.handler_v1(name)
    out("")
    out("---- what the host receives ({0}): the agent's v1 status, handler {1} ----".format(title, name))
    sample = copy.deepcopy(step.v1) if step.v1 else None
    out(json.dumps(sample, indent=2) if sample else "(nothing prepared)")
    out("---- end ({0}) ----".format(title))
    return h1


# ---------------------------------------------------------------------------------------------------------------------
# Debug switch: HandlerEnvironment "version" as a string (today's binary rejects the number)

if DEBUG_HE_VERSION_STRING:
    _orig_create_handler_env = ExtHandlerInstance.create_handler_env

    def _debug_create_handler_env(self):
        _orig_create_handler_env(self)
        path = self.get_env_file()
        data = load_json(path)
        for entry in data:
            entry["version"] = str(entry.get("version"))
        with open(path, "w") as f:
            json.dump(data, f)
        TRACE.append("[{0}] DEBUG SWITCH: HandlerEnvironment.json version rewritten as a string".format(_label(self)))

    ExtHandlerInstance.create_handler_env = _debug_create_handler_env


# ---------------------------------------------------------------------------------------------------------------------
# The cases


def now_ticks(offset_seconds=0):
    return ticks_at(time.time() + offset_seconds)


def enable_job(vm, name, ver, seq, case, cipher="-aes256", offset_seconds=0):
    task = str(uuid.uuid4())
    ticks = now_ticks(offset_seconds)
    settings = snapshot_settings(vm.tenant, vm.storage, task, ticks, cipher)
    return task, ticks, PluginSpec(name, ver, "enabled", seq, settings)


def case_success(case, vm, step, name, ver, seq, task, ticks, print_sample=False):
    check_spawn(case, step, "enable", ver, seq)
    inner = check_status_file(case, vm, name, ver, seq, task, ticks, (0, 1), "success", True)
    check_status_blob(case, vm, inner)
    check_agent_view(case, step, name, ver, seq, "success", (0, 1))
    check_snapshots(case, step, 1)
    check_vm_status_blob(case, step)
    if print_sample:
        print_v1("success", step, name)


def linux_vm(work, blobs, zip_v1, zip_v2):
    vm = VM("vm-linux", work, blobs)
    name = LINUX_NAME
    vm.fabric.add_package(name, V1, package(zip_v1, vm.dir, "v1"))
    vm.fabric.add_package(name, V2, package(zip_v2, vm.dir, "v2"))

    # The agent's certificate code put the tenant certificate where the extension looks for it.
    case = "certificates"
    crt = os.path.join(vm.lib, vm.tenant.thumbprint + ".crt")
    prv = os.path.join(vm.lib, vm.tenant.thumbprint + ".prv")
    R.check(case, "the agent's Certificates wrote <THUMBPRINT>.crt and .prv into Lib.Dir",
            os.path.isfile(crt) and os.path.isfile(prv), "{0}: {1}".format(vm.rel(vm.lib), sorted(os.listdir(vm.lib))))
    if os.path.isfile(crt):
        fp = run([OPENSSL, "x509", "-in", crt, "-noout", "-fingerprint", "-sha1"]).stdout.decode()
        R.check(case, "the .crt is the tenant certificate", fp.split("=", 1)[1].strip().replace(":", "") ==
                vm.tenant.thumbprint)
    R.check(case, "the transport certificate the agent made is in Lib.Dir",
            os.path.isfile(os.path.join(vm.lib, "TransportCert.pem")) and
            os.path.isfile(os.path.join(vm.lib, "TransportPrivate.pem")))

    # 1. First enable: download, install, enable.
    case = "first-enable"
    task, ticks, spec = enable_job(vm, name, V1, 0, case)
    step = vm.goal_state([spec], "first enable, {0} {1}, seq 0".format(name, V1))
    check_spawn(case, step, "install", V1, 0)
    he = os.path.join(vm.handler_dir(name, V1), "HandlerEnvironment.json")
    if R.check(case, "the agent wrote HandlerEnvironment.json", os.path.isfile(he)):
        data = load_json(he)
        R.check(case, "HandlerEnvironment.json is the agent's own (version is the number 1.0)",
                isinstance(data[0].get("version"), float) or DEBUG_HE_VERSION_STRING,
                info=json.dumps(data[0].get("version")))
        out("   HandlerEnvironment.json (the agent's): {0}".format(vm.rel(json.dumps(data))))
    cfg = os.path.join(vm.handler_dir(name, V1), "config")
    R.check(case, "the agent wrote config/0.settings", os.path.isfile(os.path.join(cfg, "0.settings")))
    case_success(case, vm, step, name, V1, 0, task, ticks, print_sample=True)
    first_status = open(status_file(vm, name, V1, 0)).read() if os.path.isfile(status_file(vm, name, V1, 0)) else None

    # 2. The same sequence number again (a new incarnation for other reasons): no new snapshot.
    case = "same-seq"
    step = vm.goal_state([spec], "the same seq 0 again")
    check_spawn(case, step, "enable", V1, 0)
    check_snapshots(case, step, 0)
    path = status_file(vm, name, V1, 0)
    if R.check(case, "status file 0.status still there", os.path.isfile(path)):
        text = open(path).read()
        if text == first_status:
            R.check(case, "the earlier status was left as is", True)
        else:
            st = json.loads(text)[0]["status"]
            R.check(case, "a rewritten status says code 3 (SuccessAlreadyProcessedInput), success",
                    st.get("code") == 3 and st.get("status") == "success", "code {0!r} status {1!r}".format(
                        st.get("code"), st.get("status")))
    check_agent_view(case, step, name, V1, 0, "success", (0, 1, 3))

    # 3. A new sequence number: new snapshots.
    case = "new-seq"
    task, ticks, spec = enable_job(vm, name, V1, 1, case)
    step = vm.goal_state([spec], "a new seq 1")
    case_success(case, vm, step, name, V1, 1, task, ticks)

    # 4. Protected settings encrypted with 3DES.
    case = "3des"
    task, ticks, spec = enable_job(vm, name, V1, 2, case, cipher="-des3")
    step = vm.goal_state([spec], "seq 2, protected settings encrypted with DES-EDE3-CBC")
    case_success(case, vm, step, name, V1, 2, task, ticks)

    # 5. A command issued 3 hours ago: 402, no snapshot, enable still exits 0.
    case = "late-402"
    task, ticks, spec = enable_job(vm, name, V1, 3, case, offset_seconds=-3 * 3600)
    step = vm.goal_state([spec], "seq 3, commandStartTimeUTCTicks 3 h old")
    check_spawn(case, step, "enable", V1, 3)
    inner = check_status_file(case, vm, name, V1, 3, task, ticks, 402, "error", False)
    check_status_blob(case, vm, inner)
    check_agent_view(case, step, name, V1, 3, "success", 402)
    check_snapshots(case, step, 0)
    print_v1("402 FailedGuestAgentInvokedCommandTooLate", step, name)

    # 6. Update V1 -> V2 (the agent's sequence: download+initialize V2, disable V1, copy_status_files, update V2,
    #    uninstall V1, remove V1, install V2, enable V2).
    case = "update"
    task, ticks, spec = enable_job(vm, name, V2, 4, case)
    step = vm.goal_state([spec], "update {0} -> {1}, seq 4".format(V1, V2))
    order = [(s["cmd_name"], s["env"].get("AZURE_GUEST_AGENT_EXTENSION_VERSION")) for s in step.spawns]
    want = [("disable", V1), ("update", V2), ("uninstall", V1), ("install", V2), ("enable", V2)]
    R.check(case, "the agent ran disable(V1), update(V2), uninstall(V1), install(V2), enable(V2) in that order",
            order == want, json.dumps(order))
    check_spawn(case, step, "disable", V1)
    s = check_spawn(case, step, "update", V2)
    if s:
        R.check(case, "update got VERSION, AZURE_GUEST_AGENT_UPDATING_FROM_VERSION and the disable exit code",
                s["env"].get("VERSION") == V2 and s["env"].get("AZURE_GUEST_AGENT_UPDATING_FROM_VERSION") == V1 and
                s["env"].get("AZURE_GUEST_AGENT_DISABLE_CMD_EXIT_CODE") == "0", json.dumps(s["env"]))
    check_spawn(case, step, "uninstall", V1)
    s = check_spawn(case, step, "install", V2)
    if s:
        R.check(case, "install got AZURE_GUEST_AGENT_UNINSTALL_CMD_EXIT_CODE=0",
                s["env"].get("AZURE_GUEST_AGENT_UNINSTALL_CMD_EXIT_CODE") == "0", json.dumps(s["env"]))
    R.check(case, "copy_status_files ran", any("copy_status_files" in t for t in step.trace))
    R.check(case, "the old handler folder is gone", not os.path.exists(vm.handler_dir(name, V1)))
    copied = sorted(os.listdir(os.path.join(vm.handler_dir(name, V2), "status"))) \
        if os.path.isdir(os.path.join(vm.handler_dir(name, V2), "status")) else []
    R.check(case, "the old status files were copied to the new handler", all(
        "{0}.status".format(n) in copied for n in range(4)), json.dumps(copied))
    case_success(case, vm, step, name, V2, 4, task, ticks)

    # 7. Disable.
    case = "disable"
    spec = copy.deepcopy(spec)
    spec.state = "disabled"
    step = vm.goal_state([spec], "disable")
    check_spawn(case, step, "disable", V2)
    check_snapshots(case, step, 0)
    hs = step.agent_handler_status(name)
    R.check(case, "agent: handler NotReady \"Plugin disabled\"", hs is not None and hs.status == "NotReady" and
            hs.message == "Plugin disabled", "{0}: {1}".format(hs.status, hs.message) if hs else "absent")

    # 8. Uninstall.
    case = "uninstall"
    spec = copy.deepcopy(spec)
    spec.state = "uninstall"
    step = vm.goal_state([spec], "uninstall")
    check_spawn(case, step, "uninstall", V2)
    check_snapshots(case, step, 0)
    R.check(case, "the handler folder is gone", not os.path.exists(vm.handler_dir(name, V2)))
    R.check(case, "the host no longer hears of the handler", step.handler_v1(name) is None,
            json.dumps(step.handler_v1(name))[:300])
    return vm


def windows_vm(work, blobs, zip_v1):
    vm = VM("vm-windowsname", work, blobs)
    name = WINDOWS_NAME
    vm.fabric.add_package(name, V1, package(zip_v1, vm.dir, "v1"))

    case = "windows-name"
    task, ticks, spec = enable_job(vm, name, V1, 0, case)
    step = vm.goal_state([spec], "first enable as {0}, seq 0".format(name))
    check_spawn(case, step, "install", V1, 0)
    case_success(case, vm, step, name, V1, 0, task, ticks)

    # The Windows guest agent's HandlerEnvironment.json form: extra keys. Written by hand (the Linux agent never
    # writes it); the agent does not rewrite the file after initialize(), so the next enable reads it.
    case = "windows-handler-env"
    base = vm.handler_dir(name, V1)
    he = [{
        "name": name,
        "version": "1.0" if DEBUG_HE_VERSION_STRING else 1.0,
        "handlerEnvironment": {
            "logFolder": os.path.join(vm.ext_log, name),
            "configFolder": os.path.join(base, "config"),
            "statusFolder": os.path.join(base, "status"),
            "heartbeatFile": os.path.join(base, "heartbeat.log"),
            "deploymentid": vm.fabric.container_id,
            "rolename": vm.fabric.instance,
            "instance": vm.fabric.instance,
            "hostResolverAddress": "168.63.129.16",
            "eventsFolder": os.path.join(vm.ext_log, name, "events"),
        },
    }]
    with open(os.path.join(base, "HandlerEnvironment.json"), "w") as f:
        json.dump(he, f)
    R.note(case, "HandlerEnvironment.json replaced BY HAND with the Windows agent's form (extra keys deploymentid, "
                 "rolename, instance, hostResolverAddress, eventsFolder); the Linux agent never writes this form")
    task, ticks, spec = enable_job(vm, name, V1, 1, case)
    step = vm.goal_state([spec], "seq 1 with the Windows agent's HandlerEnvironment.json form")
    case_success(case, vm, step, name, V1, 1, task, ticks)
    return vm


def nosettings_vm(work, blobs, zip_v1):
    vm = VM("vm-nosettings", work, blobs)
    name = LINUX_NAME
    vm.fabric.add_package(name, V1, package(zip_v1, vm.dir, "v1"))
    case = "no-settings"
    step = vm.goal_state([PluginSpec(name, V1, "enabled")], "the handler with no settings (the agent's empty 0.settings)")
    settings = os.path.join(vm.handler_dir(name, V1), "config", "0.settings")
    R.check(case, "the agent wrote an empty config/0.settings", os.path.isfile(settings) and
            os.path.getsize(settings) == 0)
    check_spawn(case, step, "install", V1, 0)
    s = step.spawn("enable", V1)
    if R.check(case, "the agent ran enable with ConfigSequenceNumber=0", s is not None and
               s["env"].get("ConfigSequenceNumber") == "0"):
        status = status_file(vm, name, V1, 0)
        wrote = os.path.isfile(status)
        R.check(case, "enable did not crash (exit {0})".format(s["exit"]), isinstance(s["exit"], int) and
                0 <= s["exit"] < 128, (s["output"] or "")[-800:])
        if wrote:
            R.check(case, "enable wrote 0.status, so it exited 0", s["exit"] == 0, "exit {0}".format(s["exit"]))
            try:
                st = load_json(status)[0]["status"]
                R.note(case, "0.status says: status {0!r}, code {1!r}, message {2!r}".format(
                    st.get("status"), st.get("code"), (st.get("formattedMessage") or {}).get("message", "")[:400]))
            except (ValueError, KeyError, IndexError, TypeError) as e:
                R.note(case, "0.status is not a status array: {0}".format(e))
        else:
            R.note(case, "enable wrote no 0.status (exit {0})".format(s["exit"]))
    check_snapshots(case, step, 0)
    hs = step.agent_handler_status(name)
    R.note(case, "the agent reports for it: handler {0!r} {1!r}, extension status {2} (the agent reads no status "
                 "file for a handler without settings)".format(
                     hs.status if hs else None, hs.message if hs else None,
                     "none" if hs is None or hs.extension_status is None else hs.extension_status.status))
    h1 = step.handler_v1(name)
    out("   v1 for it: {0}".format(json.dumps(h1)))

    # Then the backup service's first job arrives with seq 0: the empty 0.settings run must not have used it up
    # (it had no taskId; a job recorded as done under seq 0 would be answered "already processed" without a snapshot).
    case = "no-settings-then-seq0"
    task, ticks, spec = enable_job(vm, name, V1, 0, case)
    step = vm.goal_state([spec], "the first real job arrives with seq 0")
    case_success(case, vm, step, name, V1, 0, task, ticks)
    return vm


def main():
    work = os.environ.get("WORK") or os.path.join(os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp(), "agent_e2e")
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    endpoint = require_env("ENDPOINT")
    require_env("NODE_PATH")
    zip_v1 = require_env("HANDLER_ZIP")
    zip_v2 = os.environ.get("HANDLER_ZIP_V2") or ""
    global V1, V2
    V1 = package_version(zip_v1) or "1.0.9180.0"
    V2 = package_version(zip_v2) if zip_v2 else None
    if not V2 or V2 == V1:
        V2 = next_version(V1)
    if not zip_v2:
        zip_v2 = os.path.join(work, "handler-v2.zip")
        shutil.copyfile(zip_v1, zip_v2)
        out("NOTE: [setup] HANDLER_ZIP_V2 not given: the update flow serves a copy of HANDLER_ZIP as {0}".format(V2))
    out("handler versions: {0} (HANDLER_ZIP), {1} (the update)".format(V1, V2))
    for z in (zip_v1, zip_v2):
        with zipfile.ZipFile(z) as zf:
            names = zf.namelist()
        if not R.check("setup", "package {0} holds HandlerManifest.json and vmsnapshot at its root".format(
                os.path.basename(z)), "HandlerManifest.json" in names and "vmsnapshot" in names, json.dumps(names)):
            sys.exit(1)
    out("guest agent: WALinuxAgent {0} (azurelinuxagent from {1}), python {2}".format(
        version.AGENT_VERSION, os.path.dirname(os.path.dirname(version.__file__)), sys.version.split()[0]))
    out("work folder: {0}".format(work))
    debug = [n for n, on in (("VMSNAPSHOT_E2E_DEBUG_HE_VERSION_STRING", DEBUG_HE_VERSION_STRING),
                             ("VMSNAPSHOT_E2E_DEBUG_CERT_DIR_ARG", DEBUG_CERT_DIR_ARG)) if on]
    for d in debug:
        out("!!!! DEBUG SWITCH {0}=1: NOT the agent's behaviour; this run cannot pass".format(d))

    install_observers()
    blobs = Blobs(endpoint)
    wanted = (os.environ.get("E2E_CASES") or "linux,windows,nosettings").split(",")
    for key, fn, args in (("linux", linux_vm, (work, blobs, zip_v1, zip_v2)),
                          ("windows", windows_vm, (work, blobs, zip_v1)),
                          ("nosettings", nosettings_vm, (work, blobs, zip_v1))):
        if key not in wanted:
            continue
        try:
            fn(*args)
        except Exception:  # pylint: disable=broad-except
            R.check(key, "the flow ran to its end", False, traceback.format_exc())

    for d in debug:
        R.check("debug", "no debug switch is on", False, d)
    out("")
    if R.failures:
        out("failed checks:")
        for f in R.failures:
            out("  " + f)
    out("{0} passed, {1} failed".format(R.passed, R.failed))
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
