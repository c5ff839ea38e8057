#!/usr/bin/env python3
"""Seed 004's DiskPrep dialogue answered through a pseudo-terminal, as an admin following the seed would.

Runs the real `diskprep s:` (//simulators/sata:diskprep, simulated drives in a bay) under a pty: the import job is
chosen among two waiting at a share (a wrong number first), a USB drive is refused with its reason, a small drive is
formatted ("YES": the one confirmation rule), the data does not fit so another drive is attached - a counterfeit one,
reported by name and reason - and then a third; at the end the shipping details are entered at once, a wrong carrier,
drive count and email re-asked, state/province given, and committed with "Yes". A run on a share's only job that
declines formatting changes nothing. Environment: from tools/diskprep_dialogue_e2e_test.sh.
"""
import json
import os
import re
import select
import subprocess
import sys
import time

DISKPREP, SATASIM, BAY, SHARE = (os.environ[k] for k in ("DISKPREP", "SATASIM", "BAY", "SHARE"))
TRANSCRIPT = os.environ.get("TRANSCRIPT", "/dev/null")


class Session:
    """One command on a pseudo-terminal: expect(pattern) waits for it in the output, send(line) types a line."""

    def __init__(self, argv):
        master, slave = os.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.fd, self.out, self.pos = master, "", 0

    def _read(self, deadline):
        while time.time() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if not ready:
                if self.proc.poll() is not None:
                    return False
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # the command ended and the pty closed
                return False
            if not chunk:
                return False
            self.out += chunk.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
            return True
        return False

    def expect(self, pattern, timeout=120):
        deadline = time.time() + timeout
        while True:
            m = re.compile(pattern).search(self.out, self.pos)
            if m:
                self.pos = m.end()
                return m
            if not self._read(deadline):
                self.fail(f"expected /{pattern}/")

    def send(self, line):
        os.write(self.fd, (line + "\n").encode())

    def answer(self, prompt, line):
        self.expect(prompt)
        self.send(line)

    def wait(self):
        while self._read(time.time() + 5):
            pass
        rc = self.proc.wait(timeout=60)
        with open(TRANSCRIPT, "a") as f:
            f.write(self.out + "\n")
        return rc

    def fail(self, why):
        self.proc.kill()
        print(f"FAIL: {why}; the terminal showed after the last match:\n{self.out[self.pos:]}\n--- whole transcript ---"
              f"\n{self.out}", file=sys.stderr)
        sys.exit(1)


def drive(name, capacity, **extra):
    """Attaches a simulated drive to the bay (satasim create)."""
    args = [SATASIM, "create", "--bay", BAY, "--name", name, "--model", f"Model {name}", "--serial", f"SN-{name}",
            "--capacity", capacity, "--form-factor", "2.5", "--media", "ssd", "--interface", "sata3"]
    for k, v in extra.items():
        args += ["--" + k.replace("_", "-"), v]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


DRIVE_Q = r"Enter the name of the drive to prepare for the transfer to Azure \(as listed, without /dev/\): "
FORMAT_Q = r"Format it\? \[yes/no\]: "
ATTACH_Q = r"Attach another drive, then continue with it\? \[yes/no\]: "


def the_only_job_then_declined_format():
    s = Session([DISKPREP, "s:" + SHARE + "/a", "--bay", BAY])
    s.expect(r"Azure import job: dialoguejoba  \(staging location .*/a, .* staged on .*\)\n"
             r"  the only one waiting at .*/a: its drives are prepared now\.")
    s.expect(r"Drives of this computer:\n")
    s.answer(DRIVE_Q, "small")
    s.answer(r"Drive small \(Model small, serial SN-small, 25\.2 MB\) will be formatted and everything on it is lost\. "
             + FORMAT_Q, "no")
    s.expect(r"diskprep: nothing was changed")
    rc = s.wait()
    if rc != 1:
        s.fail(f"exit status {rc}, expected 1")
    if os.path.exists(SHARE + "/a/diskprep/small.journal"):
        s.fail("a journal was written although the format was declined")


def the_seeds_walk(today, tracking):
    s = Session([DISKPREP, "s:" + SHARE, "--bay", BAY])
    s.expect(r"Import jobs waiting at .*:\n  1\. dialoguejoba  .*\n  2\. dialoguejobb  ")
    s.answer(r"Which Azure import job are the drives you are preparing for\? \[1-2\]: ", "7")
    s.expect(r"  \"7\" is not on the list: enter a number from 1 to 2\n")
    s.answer(r"\[1-2\]: ", "2")
    s.expect(r"  usb1 .*not usable: its interface is usb; only internal SATA II/III drives are accepted\n")
    s.answer(DRIVE_Q, "usb1")
    s.expect(r"  drive usb1 \(Model usb1, serial SN-usb1\) cannot be used: its interface is usb; only internal SATA "
             r"II/III drives are accepted; choose another drive\n")
    s.answer(DRIVE_Q, "small")
    s.answer(FORMAT_Q, "YES")
    s.expect(r"There is not enough space on the chosen drive\(s\) for the backup data: [0-9.]+ MB remain\.\n")
    s.expect(ATTACH_Q)
    drive("fake", "64M", real_capacity="20M")  # the admin attaches a drive: a counterfeit one
    s.send("yes")
    s.expect(r"  fake .* usable\n")
    s.answer(DRIVE_Q, "fake")
    s.answer(FORMAT_Q, "yes")
    s.expect(r"drive fake \(serial SN-fake\) is counterfeit: it holds at most 23\.1 MB \(23064576 bytes\) of the "
             r"67\.1 MB \(67108864 bytes\) it claims \(what is written past that is lost\); use another drive\n")
    s.expect(r"There is not enough space on the chosen drive\(s\)")
    s.expect(ATTACH_Q)
    drive("big", "96M")
    s.send("yes")
    s.expect(r"  fake .*not usable: it was rejected \(see above\)\n")
    s.answer(DRIVE_Q, "big")
    s.answer(FORMAT_Q, "yes")
    s.expect(r"drive small: id SN-small, .* verified; recovery password in .*/b/diskprep/small\.recovery-password\n")
    s.expect(r"drive big: id SN-big, ")
    s.expect(r"import job dialoguejobb created \(state Creating\)\.\nShip the drives to:\n")
    s.answer(r"Do you want to enter the shipping details now\? .*\[yes/no\]: ", "yes")
    s.answer(r"Carrier \(DHL, FedEx, UPS, TNT\): ", "Pigeon")
    s.expect(r"  carrier \"Pigeon\" does not serve westeurope; choose one of DHL, FedEx, UPS, TNT\n")
    s.answer(r"Carrier \(.*\): ", "DHL")
    s.answer(r"Tracking number: ", tracking)
    s.answer(r"Ship date \(YYYY-MM-DD\): ", today)
    s.answer(r"Number of drives in the package \(import job dialoguejobb has 2\): ", "3")
    s.expect(r"  the package holds 3 drive\(s\) but import job dialoguejobb has 2")
    s.answer(r"Number of drives in the package .*: ", "2")
    for prompt, line in [(r"Return address: contact name: ", "Backup Ops"), (r"Street address: ", "Main St 1"),
                         (r"City: ", "Utrecht"), (r"State or province \(Enter if none\): ", "Utrecht"),
                         (r"Postal code: ", "3511 AB"), (r"Country or region: ", "Netherlands"),
                         (r"Phone \(with the country code\): ", "+31 30 000 0000"), (r"Email: ", "ops.example.com")]:
        s.answer(prompt, line)
    s.expect(r"  the email address has no '@'\n")
    s.answer(r"Email: ", "ops@example.com")
    s.answer(r"Return shipping: carrier account number for the drives' return \(Enter if none\): ", "951 234 567")
    s.expect(r"Import job dialoguejobb: 2 drive\(s\) by DHL, tracking number " + tracking + ", shipped " + today
             + r"\nReturn to: Backup Ops, Main St 1, 3511 AB Utrecht, Utrecht, Netherlands, \+31 30 000 0000, "
             r"ops@example\.com\nReturn shipping: DHL account 951234567\n")
    s.answer(r"Are these shipping details correct\? Commit them\? \[yes/no\]: ", "Yes")
    m = s.expect(r"job dialoguejobb is now Shipping; the shipping details are saved in (\S+)\n")
    rc = s.wait()
    if rc != 0:
        s.fail(f"exit status {rc}, expected 0")
    with open(m.group(1)) as f:
        saved = json.load(f)
    address = saved["properties"]["returnAddress"]
    if address.get("stateOrProvince") != "Utrecht" or address.get("email") != "ops@example.com":
        s.fail(f"the saved details lack the state or email: {address}")


if __name__ == "__main__":
    the_only_job_then_declined_format()
    the_seeds_walk(sys.argv[1], sys.argv[2])
    print("the seed's DiskPrep dialogue: job chosen, drives refused, formatted, attached, counterfeit named, "
          "shipping details entered and committed")
