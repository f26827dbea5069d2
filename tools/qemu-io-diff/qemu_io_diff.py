#!/usr/bin/env python3
"""Seeded differential runner: generated qemu-io scripts through QEMU's qemu-io and zbl-io.

Each script is a random command line (options before or after the image, the image first or
last, -c / --cmd= / --cmd / -cX, sometimes the commands on stdin) and a random sequence of
qemu-io commands with valid and invalid arguments. Both tools run it on identical fresh images
(host: plain files, raw over files; --device: a kernel zoned device reset before every run);
their stdout, stderr, exit status and (host) final image bytes must match, rate lines aside and
apart from the DOCUMENTED differences below. A divergence prints its seed and the shortest script
that still diverges (commands removed delta-debugging style) as a pasteable shell command line.

Exit status: 0 no undocumented divergence, 1 divergence (or nothing ran), 2 usage or harness error.
Python 3 standard library only. See README.md beside this file.
"""

import argparse
import fcntl
import hashlib
import mmap
import os
import random
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

# ---------------------------------------------------------------------------------------------
# Documented deliberate differences: where QEMU 10 is wrong for the device, zbl-io does what the
# device requires. Each is (name, reason); the predicates that recognise a command hitting one
# are in documented_hit() below. A divergence whose first differing command is one of these is
# counted as a documented difference hit, the command is removed and the rest of the script is
# compared again (its state cascades: qemu-io moved a write pointer zbl-io did not).
DOCUMENTED = {
    "buffered-zoned": (
        "cache.direct=off on a zoned device: QEMU means to refuse it (file-posix.c "
        "raw_open_common, 'requires cache.direct=on') but the check runs before the zoned probe, "
        "so qemu-io writes through the page cache: writes and appends that never reach the zone "
        "are reported done. zbl opens a zoned host_device with O_DIRECT whatever cache.direct "
        "says, so zbl-io without -n/cache.direct=on is held against qemu-io with it."),
    "zap-full-zone": (
        "zone append to a FULL zone: QEMU's write-pointer cache holds zone start + zone size for "
        "a full zone (file-posix.c get_zones_wp) and its emulated append writes there, into the "
        "next zone ('After zap done, the append sector is <next zone>'). zbl refuses it (EIO), "
        "as a device's zone append does."),
    "unaligned-seq-write": (
        "a write not aligned to the logical block size in a sequential zone: QEMU's block layer "
        "pads it (read-modify-write, reading beyond the write pointer) and the zone takes a "
        "whole block nobody wrote; zbl refuses it with EINVAL, as the kernel does for O_DIRECT."),
    "padded-qiov-assert": (
        "readv/writev/aio_read/aio_write with a zero-length element in a request that needs "
        "padding (not aligned "
        "to the request alignment, e.g. with O_DIRECT): qemu-io 10 dies on an assertion in "
        "block/io.c bdrv_create_padded_qiov ('pad->local_qiov.niov == MIN(padded_niov, "
        "IOV_MAX)'): the padded vector skips the empty element. zbl-io runs the request."),
    "aio-register-assert": (
        "aio_read / aio_write -r (register the buffer): qemu-io 10 dies on an assertion in "
        "block/graph-lock.c bdrv_graph_rdlock_main_loop ('!qemu_in_coroutine()'): the "
        "completion unregisters the buffer from coroutine context. zbl-io runs the request."),
    "zap-over-max-append": (
        "zone append longer than the device's zone_append_max_bytes: QEMU emulates zone append "
        "with a write at its cached write pointer and never checks the limit, so the append "
        "succeeds; a device's zone append (and zbl) refuses it with EINVAL."),
    "zap-zero-length": (
        "zone append of 0 bytes with -p: qemu-io prints a sector the request never set "
        "('After zap done, the append sector is 0x2ae05249e1' on a 64 MB device), a different "
        "one each run (seen comparing qemu-io with itself on NVMe ZNS)."),
    "help-paragraphs": (
        "help CMD: the synopsis line ('read [-abCqv] ... -- reads a number of bytes at a "
        "specified offset') is qemu-io's, word for word; the paragraphs after it are zbl-io's "
        "own words (house rule: no prose copied from QEMU), and they say what zbl does (e.g. "
        "discard writes zeroes, -b/-c are not supported). Only the first line is compared."),
    "zap-bad-option": (
        "zone_append with an unknown option: qemu-io's zone_append calls getopt once and treats "
        "any option as -p (it prints getopt's complaint, then appends anyway); zbl-io prints the "
        "complaint and the usage line and changes nothing."),
}
# Normalisations (not differences in behaviour): rate lines and -C timing fields vary run to
# run; after a death by signal (abort) stdout holds what stdio had flushed; the program name (qemu-io / zbl-io) in messages and the prompt; the --help/usage text
# after a bad global option is each program's own list of options. stderr is compared as
# strictly as stdout (zbl-io prints its own reasons only with --explain, never given here).
NORMALISED = ["rate-line", "usage-text", "signal-lost-output", "zbc-eio-eremoteio"]  # counted; program names always

# qemu-io 10's commands; True = generated. A command is enabled only when zbl-io provides it
# (checked against `zbl-io -c help` at start: an enabled command zbl-io lacks is an error).
COMMANDS = {
    "read": True, "write": True, "readv": True, "writev": True, "aio_read": True,
    "aio_write": True, "aio_flush": True, "flush": True, "discard": True, "truncate": True,
    "map": True, "alloc": True, "sleep": True, "abort": True, "reopen": True, "open": True,
    "close": True, "info": True, "length": True, "help": True, "quit": True,
    "zone_report": True, "zone_open": True, "zone_close": True, "zone_finish": True,
    "zone_reset": True, "zone_append": True,
    "break": True, "remove_break": True, "resume": True, "wait_break": True,
    # sigraise: only signals that end the process (a stop signal would hang the run).
    "sigraise": True,
}
ALIASES = {"read": "r", "write": "w", "flush": "f", "discard": "d", "truncate": "t", "info": "i",
           "length": "l", "help": "?", "quit": "q", "open": "o", "close": "c",
           "zone_report": "zrp", "zone_open": "zo", "zone_close": "zc", "zone_finish": "zf",
           "zone_reset": "zrs", "zone_append": "zap"}
ZONE_COMMANDS = {"zone_report", "zone_open", "zone_close", "zone_finish", "zone_reset",
                 "zone_append"}

# "4 KiB, 1 ops; 00.00 sec (...)"; past a minute the time reads "0:24:34.80" without "sec".
# QEMU aborts: (commands, the assertion text in qemu-io's stderr, an option the command has).
QEMU_ASSERTIONS = {
    "padded-qiov-assert": (("readv", "writev", "aio_read", "aio_write"),
                           "bdrv_create_padded_qiov: Assertion", None),
    "aio-register-assert": (("aio_read", "aio_write"),
                            "bdrv_graph_rdlock_main_loop: Assertion", "-r"),
}

RATE_RE = re.compile(r"^[0-9.]+ (bytes|[KMGTPE]iB), [0-9]+ ops; [0-9:.]+( sec)? \(.*\)$")
CSV_RE = re.compile(r"^(\d+),(\d+),\d+:\d\d:\d\d\.\d\d,[^,]+,[^,]+$")


class HarnessError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Targets: how an image is named on the command line and how it is made fresh.

class Target:
    """name, zoned geometry (None on files), and the option groups that open the image."""

    def __init__(self, name, size, lbs=512, zone=0, cap=0, conv=0, device=None):
        self.max_append = 0
        self.scsi = False
        self.name, self.size, self.lbs = name, size, lbs
        self.zone, self.cap, self.conv, self.device = zone, cap, conv, device

    @property
    def zoned(self):
        return self.zone > 0

    def zone_of(self, off):
        return off // self.zone if self.zoned else -1

    def is_seq(self, off):
        return self.zoned and 0 <= off < self.size and self.zone_of(off) >= self.conv


def open_forms(t, rng, image, direct):
    """(option groups for the image, image word, cache mode named) for one script.

    `direct` asks for O_DIRECT (-n, -t none, cache.direct=on) in one of its spellings."""
    groups = []
    if t.name == "plain":
        form = rng.choice(["f-file", "opts"])
        if form == "f-file":
            groups.append(rng.choice([["-f", "file"], ["-ffile"], ["--format=file"]]))
            img = image
        else:
            groups.append(["--image-opts"])
            img = "driver=file,filename=" + image
            if direct and rng.random() < 0.5:
                img += ",cache.direct=on"
                direct = False
    elif t.name == "raw":
        form = rng.choice(["f-raw", "opts", "opts-window"])
        if form == "f-raw":
            groups.append(rng.choice([["-f", "raw"], ["-fraw"], ["--format", "raw"]]))
            img = image
        else:
            groups.append(["--image-opts"])
            img = "driver=raw"
            if form == "opts-window":
                img += ",offset=%d,size=%d" % (t.window_off, t.window_size)
                t.visible = t.window_size
            img += ",file.driver=file,file.filename=" + image
            if direct and rng.random() < 0.5:
                img += ",file.cache.direct=on"
                direct = False
    else:  # a zoned kernel device
        groups.append(["--image-opts"])
        img = "driver=host_device,filename=" + image
        if direct and rng.random() < 0.6:
            img += ",cache.direct=on"
            direct = False
    if direct:
        groups.append(rng.choice([["-n"], ["--nocache"], ["-t", "none"], ["--cache=none"]]))
    return groups, img


# ---------------------------------------------------------------------------------------------
# Numbers and command generators.

def num(rng, v, valid=True):
    """v as qemu-io's cvtnum reads it, in a random spelling; valid=False: a bad number."""
    if not valid:
        return rng.choice(["-1", "abc", "12q", "0x", "1.5", "-4M", "4k4", "99999999999999T", ""])
    r = rng.random()
    if v and v % (1 << 20) == 0 and r < 0.25:
        return "%d%s" % (v >> 20, rng.choice("Mm"))
    if v and v % 1024 == 0 and r < 0.5:
        return "%d%s" % (v >> 10, rng.choice("kK"))
    if r < 0.6:
        return hex(v)
    if v == 512 and r < 0.65:
        return "0.5k"
    return str(v)


class Gen:
    """Generates the commands of one script for one target."""

    def __init__(self, t, rng, enabled, size):
        self.t, self.rng, self.enabled, self.size = t, rng, enabled, size
        self.breaks = []

    def off(self, length=0):
        t, r = self.t, self.rng
        x = r.random()
        if t.zoned:
            z = r.randrange(max(1, self.size // t.zone))
            base = z * t.zone
            if x < 0.45:
                return base  # the zone's start (a fresh zone's write pointer)
            if x < 0.8:
                return base + r.randrange(0, t.cap // t.lbs + 1) * t.lbs
            if x < 0.9:
                return base + r.randrange(t.zone)
            return r.choice([self.size, self.size - t.lbs, self.size + t.zone])
        if x < 0.6:
            return r.randrange(0, self.size // 4096) * 4096
        if x < 0.8:
            return r.randrange(0, self.size // 512) * 512
        if x < 0.93:
            return r.randrange(0, self.size)
        return r.choice([self.size, self.size - 512, self.size + 4096, max(0, self.size - length)])

    def length(self, small=False):
        r = self.rng
        lbs = self.t.lbs
        x = r.random()
        top = 4096 if small else (min(self.t.cap, 256 << 10) if self.t.zoned else 128 << 10)
        if x < 0.6:
            return r.randrange(1, top // lbs + 1) * lbs
        if x < 0.75:
            return r.choice([lbs, 4096, 8192])
        if x < 0.9:
            return r.randrange(1, top)
        return r.choice([0, self.t.zone or 65536])

    def pattern(self):
        r = self.rng
        x = r.random()
        if x < 0.9:
            v = r.randrange(256)
            return hex(v) if r.random() < 0.7 else str(v)
        return r.choice(["256", "-1", "zz", "0x1ff"])

    def shuffle_opts(self, opts, operands):
        """getopt permutes: options may follow the operands (not after a `--`)."""
        r = self.rng
        words = list(opts)
        if words and operands and r.random() < 0.2:
            k = r.randrange(len(words) + 1)
            # keep an option's argument with it: opts is a list of groups
            return sum(words[:k], []) + operands + sum(words[k:], [])
        return sum(words, []) + operands

    def name(self, cmd):
        if cmd in ALIASES and self.rng.random() < 0.4:
            return ALIASES[cmd]
        return cmd

    def bad_arity(self, operands):
        r = self.rng
        if r.random() < 0.5 and operands:
            return operands[:r.randrange(len(operands))]
        return operands + [num(r, 4096)]

    def rw(self, cmd):
        """read / write / readv / writev / aio_read / aio_write."""
        r = self.rng
        vec = cmd in ("readv", "writev") or cmd.startswith("aio_")
        write = "write" in cmd
        opts = []
        verbose = False
        flags = {"read": "Cqrv", "write": "CqrfZ", "readv": "Cqrv", "writev": "Cqrf",
                 "aio_read": "Cqrv", "aio_write": "CqrfZ"}[cmd]
        for f in flags:
            if r.random() < 0.12:
                if f == "Z":
                    opts.append(["-z"])
                    if r.random() < 0.5:
                        opts.append([r.choice(["-u", "-n"])])
                    continue
                opts.append(["-" + f])
                verbose |= f == "v"
        pattern = r.random() < 0.5
        if pattern and ["-z"] not in opts:
            opts.append(["-P", self.pattern()])
            if cmd == "read" and r.random() < 0.2:
                opts.append(["-s", num(r, r.randrange(0, 1024))])
                if r.random() < 0.5:
                    opts.append(["-l", num(r, r.randrange(1, 1024))])
        x = r.random()
        if x < 0.03:
            opts.append([r.choice(["-b", "-a", "-x", "-c" if write else "-P"])])
        if cmd == "write" and r.random() < 0.03:
            opts.append(["-s", "src.bin"])
        r.shuffle(opts)
        lens = [self.length(small=verbose)]
        if vec and r.random() < 0.5:
            lens += [self.length(small=True) for _ in range(r.randrange(1, 4))]
        off = self.off(sum(lens))
        operands = [num(r, off)] + [num(r, n) for n in lens]
        if r.random() < 0.05:
            operands[r.randrange(len(operands))] = num(r, 0, valid=False)
        if r.random() < 0.04:
            operands = self.bad_arity(operands)
        words = [self.name(cmd)] + self.shuffle_opts(opts, operands)
        out = [" ".join(words)]
        if cmd.startswith("aio_") and self.enabled.get("aio_flush"):
            out.append("aio_flush")  # completion order of overlapping requests is timing
        return out

    def zone(self, cmd):
        r, t = self.rng, self.t
        nz = max(1, self.size // max(t.zone, 1))
        if cmd == "zone_report":
            operands = [num(r, self.off()), str(r.choice([1, 1, 2, 3, nz, nz + 2, 0]))]
        elif cmd == "zone_append":
            opts = [["-p"]] if r.random() < 0.7 else []
            if r.random() < 0.04:
                opts.append([r.choice(["-x", "-q"])])
            base = (self.off() // t.zone) * t.zone if t.zoned else self.off()
            lens = [self.length() for _ in range(r.choice([1, 1, 2]))]
            operands = [num(r, base)] + [num(r, n) for n in lens]
            if r.random() < 0.04:
                operands = self.bad_arity(operands)
            out = [" ".join([self.name(cmd)] + self.shuffle_opts(opts, operands))]
            if t.zoned and r.random() < 0.1:
                # an append to a zone just finished: FULL (zap-full-zone where QEMU is wrong)
                out.insert(0, "%s %d %d" % (self.name("zone_finish"), base, t.zone))
            return out
        else:
            x = r.random()
            base = (self.off() // t.zone) * t.zone if t.zoned else self.off()
            if x < 0.8:
                ln = t.zone * r.choice([1, 1, 1, 2, 3]) if t.zoned else 4096
            elif x < 0.9:
                ln = self.size - base if base < self.size else t.zone
            else:
                ln = r.choice([t.lbs, 4096, (t.zone or 4096) + 4096])
            if x > 0.97:
                base += t.lbs
            if cmd == "zone_reset" and r.random() < 0.05:
                base, ln = 0, self.size  # reset all
            operands = [num(r, base), num(r, ln)]
        if r.random() < 0.04:
            operands = self.bad_arity(operands)
        return [" ".join([self.name(cmd)] + operands)]

    def command(self, cmd):
        r = self.rng
        if cmd in ("read", "write", "readv", "writev", "aio_read", "aio_write"):
            return self.rw(cmd)
        if cmd in ZONE_COMMANDS:
            return self.zone(cmd)
        if cmd in ("flush", "aio_flush", "info", "length", "map", "close", "quit", "abort"):
            extra = " 1" if r.random() < 0.03 else ""
            return [self.name(cmd) + extra]
        if cmd == "discard":
            opts = [["-" + f] for f in "Cq" if r.random() < 0.15]
            off = self.off()
            operands = [num(r, off), num(r, self.length())]
            if r.random() < 0.05:
                operands = self.bad_arity(operands)
            return [" ".join([self.name(cmd)] + self.shuffle_opts(opts, operands))]
        if cmd == "truncate":
            opts = []
            if r.random() < 0.2:
                opts.append(["-m", r.choice(["off", "falloc", "full", "metadata", "bogus"])])
            new = r.choice([self.size, self.size // 2, self.size + 65536, self.size + 100, 0])
            operands = [num(r, new)]
            if r.random() < 0.05:
                operands = self.bad_arity(operands)
            return [" ".join([self.name(cmd)] + self.shuffle_opts(opts, operands))]
        if cmd == "alloc":
            operands = [num(r, self.off())]
            if r.random() < 0.6:
                operands.append(str(r.choice([1, 8, 64, 2048, 0, 100000])))
            if r.random() < 0.05:
                operands = self.bad_arity(operands)
            return [" ".join(["alloc"] + operands)]
        if cmd == "sleep":
            return ["sleep " + r.choice(["0", "1", "2", "x", "1k"])] if r.random() < 0.95 \
                else ["sleep"]
        if cmd == "sigraise":
            return ["sigraise " + r.choice(["15", "10", "2", "9", "12", "x", "15 1", ""])]
        if cmd == "help":
            if r.random() < 0.3:
                return [self.name("help")]
            names = [c for c, on in self.enabled.items() if on] + list(ALIASES.values())
            return [self.name("help") + " " + r.choice(names + ["nosuch"])]
        if cmd == "open":
            return self.open_cmd()
        if cmd == "reopen":
            opts = []
            if r.random() < 0.4:
                opts.append([r.choice(["-r", "-w"])])
            if r.random() < 0.3:
                opts.append(["-c", r.choice(["none", "writeback", "directsync", "unsafe",
                                             "writethrough", "bogus"])])
            if r.random() < 0.1:
                opts.append(["-o", r.choice(["cache.direct=on", "bogus=1"])])
            if r.random() < 0.05:
                opts.append(["-r", "-w"])
            r.shuffle(opts)
            return [" ".join(["reopen"] + sum(opts, []))]
        if cmd in ("break", "remove_break", "resume", "wait_break"):
            return self.breakpoint(cmd)
        raise HarnessError("no generator for command '%s'" % cmd)

    def breakpoint(self, cmd):
        """break / remove_break / resume / wait_break. wait_break waits until a request stops
        at the breakpoint (qemu-io polls forever otherwise), so it comes only in a sequence that
        suspends one: break EVENT TAG; aio_write; wait_break TAG; resume TAG; aio_flush, and only
        on a node with a blkdebug filter."""
        r = self.rng
        tag = r.choice(["A", "B", "tag1"])
        blkdebug = self.t.name == "blkdebug"
        if cmd == "wait_break" and not blkdebug:
            cmd = "resume"
        if cmd == "wait_break" or (cmd == "break" and blkdebug and r.random() < 0.5 and
                                   self.enabled.get("aio_write") and self.enabled.get("resume")):
            ev = r.choice(["write_aio", "pwritev"])
            off = r.randrange(0, self.size // 4096) * 4096
            return ["break %s %s" % (ev, tag), "aio_write -P 0x5c %d 4096" % off,
                    "wait_break " + tag, "resume " + tag, "aio_flush"]
        if cmd == "break":
            ev = r.choice(["write_aio", "read_aio", "flush_to_disk", "pwritev", "bogus_event"])
            extra = " extra" if r.random() < 0.05 else ""
            return ["break %s %s%s" % (ev, tag, extra)]
        return ["%s %s" % (cmd, tag)]

    def open_cmd(self):
        r, t = self.rng, self.t
        x = r.random()
        if x < 0.1:
            return ["open"]
        if t.name == "plain":
            arg = r.choice(["-o driver=file disk.img", "-o driver=file nosuch.img"])
        elif t.name == "raw":
            arg = r.choice(["-o driver=raw disk.img", "-o driver=raw,file.driver=file disk.img"])
        else:
            arg = "-o driver=host_device " + t.device
        flags = r.choice(["", "", "-n ", "-t none ", "-k ", "-U "])
        return [self.name("open") + " " + flags + arg]

    def script(self, ncmds):
        r = self.rng
        names = [c for c, on in self.enabled.items() if on]
        weights = {"read": 6, "write": 8, "readv": 2, "writev": 2, "aio_read": 1.5,
                   "aio_write": 1.5, "zone_report": 5, "zone_open": 3, "zone_close": 2,
                   "zone_finish": 2, "zone_reset": 3, "zone_append": 5, "abort": 0.1,
                   "quit": 0.2, "sigraise": 0.1, "close": 0.4, "open": 0.6, "sleep": 0.3, "info": 0.4,
                   "help": 0.5, "discard": 2, "truncate": 0.7}
        if not self.t.zoned:
            for z in ZONE_COMMANDS:
                weights[z] = 0.3
        else:
            weights["truncate"] = 0.2
        w = [weights.get(c, 0.5) for c in names]
        units, n = [], 0  # a unit: the commands one generator call made (aio_X + aio_flush)
        while n < ncmds:
            u = self.command(r.choices(names, w)[0])
            units.append(tuple(u))
            n += len(u)
        return units


# ---------------------------------------------------------------------------------------------
# A script: the command line's layout (option groups, the image, the commands in order) and how
# the commands reach the tool. Shrinking removes commands and keeps the rest.

class Script:
    def __init__(self, seed, index, groups, image, cmds, rng, stdin):
        self.seed, self.index, self.groups, self.image = seed, index, groups, image
        self.cmds = list(cmds)
        self.stdin = stdin
        # layout: where the image goes, which spelling of -c, how options and commands mix
        self.image_pos = rng.choice(["first", "last", "last", "middle", "dashdash"])
        self.styles = [rng.choice(["-c", "-c", "--cmd=", "--cmd", "-cX"]) for _ in range(256)]
        self.opt_slots = [rng.random() for _ in groups]
        self.bad_global = None
        if rng.random() < 0.03:
            self.bad_global = rng.choice([["-Z"], ["-t", "bogus"], ["-i", "bogus"], ["-f"],
                                          ["--nosuch"], ["-c"], ["--image-opts", "-f", "raw"]])

    def for_tool(self, tool):
        """zbl-io's copy drops the O_DIRECT spelling when strip_direct (buffered-zoned)."""
        if tool == "qemu" or not getattr(self, "strip_direct", False):
            return self
        c = self.with_cmds(self.cmds)
        c.strip_direct = False
        c.groups = [g for g in self.groups if g not in (["-n"], ["--nocache"], ["-t", "none"],
                                                        ["--cache=none"])]
        c.opt_slots = [sl for g, sl in zip(self.groups, self.opt_slots) if g in c.groups]
        c.image = self.image.replace(",cache.direct=on", "")
        return c

    def with_cmds(self, cmds):
        s = object.__new__(Script)
        s.__dict__.update(self.__dict__)
        s.cmds = list(cmds)
        return s

    def argv(self, cmds=None):
        cmds = self.cmds if cmds is None else cmds
        items = []  # (sort key, words)
        n = max(1, len(cmds))
        if not self.stdin:
            for i, c in enumerate(cmds):
                st = self.styles[i % len(self.styles)]
                words = ["--cmd=" + c] if st == "--cmd=" else ["-c" + c] if st == "-cX" \
                    else [st, c]
                items.append((float(i), words))
        for g, slot in zip(self.groups, self.opt_slots):
            items.append((slot * n - 0.5, g))
        items.sort(key=lambda kv: kv[0])
        words = sum((w for _, w in items), [])
        if self.bad_global:
            words = self.bad_global + words if self.index % 2 else words + self.bad_global
        if self.image_pos == "first":
            return [self.image] + words
        if self.image_pos == "simple":
            k = sum(len(g) for g in self.groups)
            return words[:k] + [self.image] + words[k:]
        if self.image_pos == "middle" and words:
            k = len(words) // 2
            # never between an option and its argument
            while k < len(words) and (words[k - 1] in ("-c", "--cmd", "-f", "-t", "-i", "-T",
                                                       "--format") if k else False):
                k += 1
            return words[:k] + [self.image] + words[k:]
        if self.image_pos == "dashdash":
            return words + ["--", self.image]
        return words + [self.image]

    def stdin_text(self, cmds=None):
        cmds = self.cmds if cmds is None else cmds
        return "".join(c + "\n" for c in cmds) if self.stdin else ""


# ---------------------------------------------------------------------------------------------
# Running and comparing.

class Runner:
    def __init__(self, args, target):
        self.a, self.t = args, target
        # program names as they print them (prompt, messages); both qemu-io for --self-check
        self.qp = os.path.basename(args.qemu_io)
        self.zp = os.path.basename(args.zbl_io)
        self.lock = threading.Lock()
        self.dev_lock = threading.Lock()
        self.counts = {"scripts": 0, "commands": 0, "runs": 0, "divergences": 0}
        self.hits = {k: 0 for k in list(DOCUMENTED) + NORMALISED}
        self.failures = []
        self.shrinks = 0
        self.conv_dirty = True
        self.t0 = time.monotonic()

    # -- fresh images ----------------------------------------------------------------------
    def fresh(self, workdir, size):
        if self.t.device:
            reset_device(self.t, zero_conv=self.conv_dirty)
            self.conv_dirty = False
            return
        path = os.path.join(workdir, "disk.img")
        with open(path, "wb") as f:
            f.truncate(size)
        with open(os.path.join(workdir, "src.bin"), "wb") as f:
            f.write(bytes(range(256)) * 64)

    def run_tool(self, tool, script, cmds, workdir, size):
        self.fresh(workdir, size)
        if self.t.device and self.t.conv:
            # the conventional zones are zeroed before the next run only if this one may have
            # written them (a write-like command below their end, or one not understood)
            conv_end = self.t.conv * self.t.zone
            for c in cmds:
                w = c.split()
                n = {v: k2 for k2, v in ALIASES.items()}.get(w[0], w[0]) if w else ""
                if n in WRITE_LIKE:
                    ops = rw_operands(w)
                    off = ops[0] if ops else parse_offset(c)
                    if off is None or off < conv_end:
                        self.conv_dirty = True
                elif n in ("open", "reopen"):
                    self.conv_dirty = True
        # argv[0] is the bare name for both (getopt's messages print it), the path is executed
        argv = [os.path.basename(tool)] + script.argv(cmds)
        t0 = time.monotonic()
        try:
            p = subprocess.run(argv, executable=shutil.which(tool), cwd=workdir,
                               input=script.stdin_text(cmds).encode(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=self.a.timeout)
        except subprocess.TimeoutExpired:
            print("qemu-io-diff: %s: timed out after %s s: %s" % (
                self.t.name, self.a.timeout, " ".join(shlex.quote(w) for w in argv)),
                file=sys.stderr, flush=True)
            return ("<timeout after %ss>" % self.a.timeout, "", "timeout", "")
        except OSError as e:
            raise HarnessError("cannot run %s: %s" % (tool, e.strerror))
        finally:
            took = time.monotonic() - t0
            if took > 10:
                print("qemu-io-diff: %s: a run took %.0f s: %s" % (
                    self.t.name, took, " ".join(shlex.quote(w) for w in argv)),
                    file=sys.stderr, flush=True)
        image = ""
        if not self.t.device:
            img = os.path.join(workdir, "disk.img")
            if os.path.exists(img):
                with open(img, "rb") as f:
                    data = f.read()
                image = "%d bytes sha1 %s" % (len(data), hashlib.sha1(data).hexdigest())
        with self.lock:
            self.counts["runs"] += 1
        return (p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"),
                p.returncode, image)

    def pair(self, script, cmds, workdir):
        size = script.size
        q = self.run_tool(self.a.qemu_io, script.for_tool("qemu"), cmds, workdir + "/q", size)
        z = self.run_tool(self.a.zbl_io, script.for_tool("zbl"), cmds, workdir + "/z", size)
        return q, z

    # -- normalisation ---------------------------------------------------------------------
    @staticmethod
    def norm_stdout(text, prog, hits):
        out = []
        lines = text.split("\n")
        usage = False
        for ln in lines:
            prompt = ""
            while ln.startswith(prog + "> "):
                prompt += "PROMPT> "
                ln = ln[len(prog) + 2:]
            if RATE_RE.match(ln):
                hits.add("rate-line")
                if not prompt:
                    continue
                ln = "<rate line>"
            m = CSV_RE.match(ln)
            if m:
                ln = "%s,%s,<time>,<rate>,<rate>" % (m.group(1), m.group(2))
                hits.add("rate-line")
            ln = prompt + ln
            if ln.startswith("Usage: %s [OPTIONS]" % prog):
                usage = True
                out.append("<usage text>")
                hits.add("usage-text")
                continue
            if usage:
                continue
            out.append(ln.replace(prog + ": ", "PROG: "))
        return out

    @staticmethod
    def eio_alias(lines, hits):
        """SCSI ZBC: Linux 6.12 reports a refused write as EIO (zone write plug) or EREMOTEIO
        (the disk's check condition) depending on the plug's history and on how a long write
        was split (ci/vm/diff.sh, drivers/emulated/profile.h): qemu-io against itself differs
        there. Both read as EIO."""
        out = []
        for ln in lines:
            if ln.endswith("failed: Remote I/O error"):
                ln = ln[:-len("Remote I/O error")] + "Input/output error"
                hits.add("zbc-eio-eremoteio")
            out.append(ln)
        return out

    @staticmethod
    def norm_stderr(text, prog):
        return [ln.replace(prog + ": ", "PROG: ", 1) if ln.startswith(prog + ": ") else ln
                for ln in text.split("\n") if ln != ""]

    def compare(self, q, z):
        """None when equal (normalised), else a one-line reason; plus the normalisations hit."""
        hits = set()
        if q[2] == "timeout" or z[2] == "timeout":
            return "a tool timed out", hits
        qo = self.norm_stdout(q[0], self.qp, hits)
        zo = self.norm_stdout(z[0], self.zp, hits)
        if self.t.scsi:
            qo, zo = self.eio_alias(qo, hits), self.eio_alias(zo, hits)
        if qo != zo and isinstance(q[2], int) and q[2] == z[2] and q[2] < 0:
            # both killed by the same signal (abort): what reached the pipe is whatever stdio
            # had flushed, which depends on the rate lines' lengths. The shorter must be a
            # prefix of the longer, its possibly partial last line aside.
            a, b = sorted((qo[:-1], zo[:-1]), key=len)
            if b[:len(a)] == a:
                hits.add("signal-lost-output")
                qo = zo
        if qo != zo:
            return "stdout differs", hits
        qe = self.norm_stderr(q[1], self.qp)
        ze = self.norm_stderr(z[1], self.zp)
        if qe != ze:
            return "stderr differs", hits
        if q[2] != z[2]:
            return "exit status differs (%s vs %s)" % (q[2], z[2]), hits
        if q[3] != z[3]:
            return "final image differs", hits
        return None, hits

    # -- attribution: which command first differs (stdin mode splits stdout at prompts) ---
    def per_command(self, script, cmds, workdir):
        s = script.with_cmds(cmds)
        s.stdin = True
        s.bad_global = None
        q, z = self.pair(s, cmds, workdir)
        qs = q[0].split(self.qp + "> ")[1:]
        zs = z[0].split(self.zp + "> ")[1:]
        return qs, zs, q, z

    def first_diff(self, script, cmds, workdir):
        """(index, qemu-io's stdout, zbl-io's stdout, qemu-io's run) of the first command whose
        output differs, or Nones. A crash shows as the last command qemu-io started."""
        qs, zs, q, z = self.per_command(script, cmds, workdir)
        for i in range(min(len(qs), len(zs), len(cmds))):
            h = set()
            a, b = self.norm_stdout(qs[i], self.qp, h), self.norm_stdout(zs[i], self.zp, h)
            if self.t.scsi:
                a, b = self.eio_alias(a, h), self.eio_alias(b, h)
            if a != b:
                return i, qs[i], zs[i], q
        if q[2] != z[2] and qs and cmds:
            # same output, different ends (a crash, possibly at exit): the last command started
            k = min(len(qs), len(cmds)) - 1
            return k, qs[k], zs[k] if k < len(zs) else "", q
        return None, None, None, q

    def zone_full(self, script, cmds, k, workdir):
        """Is the zone command k appends to FULL just before it (probed with zbl-io)?"""
        off = parse_offset(cmds[k])
        if off is None or not self.t.zoned:
            return False
        probe = cmds[:k] + ["zrp %d 1" % off]
        s = script.with_cmds(probe)
        s.stdin = True
        s.bad_global = None
        z = self.run_tool(self.a.zbl_io, s.for_tool("zbl"), probe, workdir + "/z", script.size)
        last = z[0].split(self.zp + "> ")[-1]
        return "zcond:14" in last

    def documented_hit(self, script, cmds, k, qout, zout, q, workdir):
        """(name of the documented difference hit or None, index of the command that hit it).
        q is qemu-io's whole run (stdin mode: one prompt before each command it started)."""
        c = cmds[k]
        words = c.split()
        name = words[0] if words else ""
        full = {v: k2 for k2, v in ALIASES.items()}.get(name, name)
        t = self.t
        if q[2] == -6:
            # the command qemu-io died in: the last one it started (k, or an aio_flush after)
            crash = min(len(q[0].split(self.qp + "> ")) - 2, len(cmds) - 1)
            for name, (commands, assertion, option) in QEMU_ASSERTIONS.items():
                if assertion not in q[1]:
                    continue
                for i in range(crash, -1, -1):  # the last such command before the crash
                    w = cmds[i].split()
                    n = {v: k2 for k2, v in ALIASES.items()}.get(w[0], w[0]) if w else ""
                    if n in commands and (option is None or option in w):
                        return name, i
        if full == "help" and len(words) == 2:
            qa, zb = qout.split("\n"), zout.split("\n")
            if qa[0] and qa[0] == zb[0]:
                return "help-paragraphs", k
        if full == "zone_append" and any(w.startswith("-") and w != "-p" and not
                                         re.match(r"^-\d", w) for w in words[1:]):
            return "zap-bad-option", k
        if full == "zone_append" and t.zoned and "Input/output error" in zout and \
                "failed" not in qout and self.zone_full(script, cmds, k, workdir):
            return "zap-full-zone", k
        if full == "zone_append" and t.zoned and "After zap done" in qout:
            ops = rw_operands(words)
            if ops and sum(ops[1]) == 0:
                return "zap-zero-length", k
        if full == "zone_append" and t.zoned and t.max_append and "Invalid argument" in zout \
                and "failed" not in qout:
            ops = rw_operands(words)
            if ops and sum(ops[1]) > t.max_append:
                return "zap-over-max-append", k
        # qemu-io pads: the write succeeds (reported, or silent with -q) or the padded write
        # fails at the device (EIO, not at the write pointer); zbl-io answers EINVAL first
        if full in ("write", "writev", "aio_write") and t.zoned and \
                "Invalid argument" in zout and "Invalid argument" not in qout:
            ops = rw_operands(words)
            if ops:
                off, lens = ops
                if t.is_seq(off) and (off % t.lbs or sum(lens) % t.lbs):
                    return "unaligned-seq-write", k
        return None, k

    # -- one script: compare, attribute documented differences, shrink the rest ------------
    def diverges(self, script, cmds, workdir):
        """The reason cmds diverge, or None when they agree or their first difference is a
        documented one (the shrinker keeps only undocumented divergences)."""
        q, z = self.pair(script, cmds, workdir)
        reason, _ = self.compare(q, z)
        if reason is None:
            return None
        k, qo, zo, qrun = self.first_diff(script, cmds, workdir)
        if k is not None and self.documented_hit(script, cmds, k, qo, zo, qrun, workdir)[0]:
            return None
        return reason

    def run_script(self, script):
        workdir = tempfile.mkdtemp(prefix="qid-", dir=self.a.work)
        os.makedirs(workdir + "/q")
        os.makedirs(workdir + "/z")
        try:
            return self._run_script(script, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _run_script(self, script, workdir):
        lock = self.dev_lock if self.t.device else threading.Lock()
        with lock:
            cmds = script.cmds
            hits_here = []
            q = z = None
            for _ in range(len(cmds) + 1):
                q, z = self.pair(script, cmds, workdir)
                reason, norm = self.compare(q, z)
                with self.lock:
                    for h in norm:
                        self.hits[h] += 1
                if reason is None:
                    break
                k, qo, zo, qrun = self.first_diff(script, cmds, workdir)
                hit = (None, k) if k is None else \
                    self.documented_hit(script, cmds, k, qo, zo, qrun, workdir)
                if not hit[0]:
                    break
                hits_here.append(hit[0])
                cmds = cmds[:hit[1]] + cmds[hit[1] + 1:]
            if script.documented_argv:
                hits_here.append(script.documented_argv)
            with self.lock:
                self.counts["scripts"] += 1
                self.counts["commands"] += len(script.cmds)
                n = self.counts["scripts"]
                if self.a.progress and n % self.a.progress == 0:
                    print("qemu-io-diff: %s: %d scripts, %d divergences so far, %.0f s" % (
                        self.t.name, n, self.counts["divergences"], time.monotonic() - self.t0),
                        file=sys.stderr, flush=True)
                for h in hits_here:
                    self.hits[h] += 1
            if reason is None:
                return
            with self.lock:
                self.shrinks += 1
                do_shrink = self.shrinks <= self.a.max_shrink
            shrunk = self.shrink(script, cmds, workdir) if do_shrink else cmds
            q, z = self.pair(script, shrunk, workdir)
            reason2, _ = self.compare(q, z)
            with self.lock:
                self.counts["divergences"] += 1
                self.failures.append(self.report(script, shrunk, reason2 or reason, q, z))

    def shrink(self, script, cmds, workdir):
        """ddmin over the script's units (what one generator call made, so an aio_X keeps its
        aio_flush): the smallest command list that still diverges undocumented."""
        units, rest = [], list(cmds)
        for u in script.units:  # cmds is a subsequence of the units' commands
            kept = []
            for c in u:
                if rest and rest[0] == c:
                    kept.append(rest.pop(0))
            if kept:
                units.append(kept)

        def flat(us):
            return [c for u in us for c in u]
        n = 2
        while len(units) >= 2:
            chunk = max(1, len(units) // n)
            reduced = False
            for i in range(0, len(units), chunk):
                cand = units[:i] + units[i + chunk:]
                if cand and self.diverges(script, flat(cand), workdir):
                    units, n, reduced = cand, max(n - 1, 2), True
                    break
            if not reduced:
                if chunk == 1:
                    break
                n = min(len(units), n * 2)
        return flat(units)

    def report(self, script, cmds, reason, q, z):
        t = self.t
        lines = ["DIVERGENCE (%s): target %s, seed %d, script %d -- %s" %
                 (t.name, t.name, script.seed, script.index, reason),
                 "  reproduce: %s" % script.repro,
                 "  shortest diverging script (%d of %d commands), in a directory holding "
                 "disk.img (%d bytes, zeros):" % (len(cmds), len(script.cmds), script.size)]
        for tool, out in (("qemu-io", q), ("zbl-io", z)):
            argv = script.for_tool("qemu" if tool == "qemu-io" else "zbl").argv(cmds)
            cmdline = " ".join(shlex.quote(w) for w in [tool] + argv)
            if script.stdin:
                cmdline = "printf '%%s\\n' %s | %s" % (
                    " ".join(shlex.quote(c) for c in cmds), cmdline)
            lines.append("    " + cmdline)
        for tool, out in (("qemu-io", q), ("zbl-io", z)):
            lines.append("  %s: exit %s, image %s" % (tool, out[2], out[3] or "-"))
            for ln in out[0].rstrip("\n").split("\n"):
                lines.append("    out| " + ln)
            for ln in out[1].rstrip("\n").split("\n"):
                if ln:
                    lines.append("    err| " + ln)
        return "\n".join(lines)


def parse_offset(cmd):
    words = [w for w in cmd.split()[1:] if not w.startswith("-") or re.match(r"^-\d", w)]
    return cvtnum(words[0]) if words else None


def rw_operands(words):
    """(offset, [lengths]) of a read/write-like command, options and their arguments skipped."""
    ops, i = [], 1
    while i < len(words):
        w = words[i]
        if w in ("-P", "-s", "-l"):
            i += 2
            continue
        if w.startswith("-") and not re.match(r"^-\d", w):
            i += 1
            continue
        ops.append(cvtnum(w))
        i += 1
    if len(ops) < 2 or any(v is None for v in ops):
        return None
    return ops[0], ops[1:]


def cvtnum(s):
    """qemu_strtosz for the spellings num() makes (enough to locate a command's target)."""
    m = re.match(r"^(0x[0-9a-fA-F]+|\d*\.?\d+)([bkKmMgGtT]?)$", s)
    if not m:
        return None
    v = int(m.group(1), 16) if m.group(1).startswith("0x") else float(m.group(1))
    mult = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    return int(v * mult[m.group(2).lower()])


# ---------------------------------------------------------------------------------------------
# Zoned kernel devices: reset before every run (all zones reset, conventional zones zeroed).

BLKRESETZONE = 0x40101283  # _IOW(0x12, 131, struct blk_zone_range {u64 sector, nr_sectors})
BLKGETSIZE64 = 0x80081272


WRITE_LIKE = {"write", "writev", "aio_write", "zone_append", "discard", "truncate"}


def reset_device(t, zero_conv=True):
    fd = os.open(t.device, os.O_RDWR | os.O_DIRECT)
    try:
        fcntl.ioctl(fd, BLKRESETZONE, struct.pack("QQ", 0, t.size >> 9))
        if t.conv and zero_conv:
            buf = mmap.mmap(-1, 1 << 20)
            for off in range(0, t.conv * t.zone, 1 << 20):
                os.pwrite(fd, buf, off)
    finally:
        os.close(fd)


def device_target(args):
    dev = args.device
    import stat
    try:
        if not stat.S_ISBLK(os.stat(dev).st_mode):
            raise HarnessError("%s is not a block device" % dev)
    except OSError as e:
        raise HarnessError("%s: %s" % (dev, e.strerror))
    name = os.path.basename(os.path.realpath(dev))
    q = "/sys/block/%s/queue/" % name

    def rd(f):
        with open(q + f) as fh:
            return fh.read().strip()
    if rd("zoned") == "none":
        raise HarnessError("%s is not a zoned block device" % dev)
    fd = os.open(dev, os.O_RDONLY)
    try:
        size = struct.unpack("Q", fcntl.ioctl(fd, BLKGETSIZE64, b"\0" * 8))[0]
    finally:
        os.close(fd)
    zone = int(rd("chunk_sectors")) << 9
    lbs = int(rd("logical_block_size"))
    g = dict(kv.split("=") for kv in args.geometry.split(",")) if args.geometry else {}
    cap = cvtnum(g.get("cap", str(zone)))
    conv = int(g.get("conv", "0"))
    t = Target(args.family or name, size, lbs=lbs, zone=zone, cap=cap, conv=conv, device=dev)
    t.max_append = int(rd("zone_append_max_bytes"))
    t.scsi = os.path.isdir("/sys/block/%s/device/scsi_disk" % name) or name.startswith("sd")
    return t


# ---------------------------------------------------------------------------------------------

def zbl_io_commands(zbl_io, work):
    d = tempfile.mkdtemp(prefix="qid-help-", dir=work)
    try:
        with open(d + "/disk.img", "wb") as f:
            f.truncate(1 << 20)
        p = subprocess.run([zbl_io, "-f", "file", "disk.img", "-c", "help"], cwd=d,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        raise HarnessError("cannot run %s -c help: %s" % (zbl_io, e))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return {ln.split()[0] for ln in p.stdout.decode().splitlines() if " -- " in ln}


def make_script(args, t, enabled, index):
    seed = args.seed
    rng = random.Random("%d:%s:%d" % (seed, t.name, index))
    size = t.size
    if not t.device:
        size = rng.choice([1 << 20, 1 << 20, 256 << 10, (1 << 20) + 1536, 3 << 19])
        t.window_off = rng.choice([0, 4096, 512])
        t.window_size = rng.choice([size // 2, 65536])
    direct = rng.random() < (0.4 if not t.device else 1.0)
    t.visible = size
    groups, img = open_forms(t, rng, "disk.img" if not t.device else t.device, direct)
    # offsets and lengths are drawn within what the tools see (a raw window is smaller than
    # the file), a few beyond it
    gen = Gen(t, rng, enabled, t.visible)
    for opt in (["-U"], ["-i", "threads"], ["--aio=io_uring"], ["-t", "writeback"],
                ["-t", "directsync"], ["-r"], ["-T", "zblnomatch*"]):
        if rng.random() < 0.04:
            groups.append(opt)
    if rng.random() < 0.1 and len(groups) > 1:
        # clustered short flags: -nU
        flags = [g for g in groups if len(g) == 1 and re.match(r"^-[a-zA-Z]$", g[0])]
        if len(flags) >= 2:
            for g in flags:
                groups.remove(g)
            groups.append(["-" + "".join(g[0][1] for g in flags)])
    ncmds = rng.randrange(1, args.max_commands + 1)
    units = gen.script(ncmds)
    cmds = [c for u in units for c in u]
    s = Script(seed, index, groups, img, cmds, rng, stdin=rng.random() < 0.05)
    s.units = units
    if args.simple_cmdline:
        s.stdin, s.bad_global, s.image_pos = False, None, "simple"
        s.styles = ["-c"] * len(s.styles)
        fmt = {"-ffile": ["-f", "file"], "--format=file": ["-f", "file"], "-fraw": ["-f", "raw"],
               "--format": ["-f", "raw"], "--nocache": ["-n"], "--cache=none": ["-n"]}
        s.groups = [fmt.get(g[0], ["-n"] if g == ["-t", "none"] else g) for g in s.groups]
        s.groups = [g for g in s.groups if g[0] in ("-f", "--image-opts", "-n")]
        s.opt_slots = [-1.0] * len(s.groups)
    s.size = size
    s.documented_argv = None
    s.repro = "%s --zbl-io %s --qemu-io %s --target %s --seed %d --only %d%s" % (
        sys.argv[0], args.zbl_io, args.qemu_io, args.target, seed, index,
        (" --device %s --family %s --geometry %s" % (args.device, t.name, args.geometry))
        if t.device else "")
    # documented difference 'buffered-zoned': zbl-io sometimes gets no cache.direct=on while
    # qemu-io always has it.
    # (not when qemu-io is compared with itself: its buffered run is the bug)
    s.strip_direct = bool(t.device) and rng.random() < 0.3 and \
        os.path.basename(args.zbl_io) != os.path.basename(args.qemu_io)
    if s.strip_direct:
        s.documented_argv = "buffered-zoned"
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zbl-io", required=True)
    ap.add_argument("--qemu-io", default="qemu-io")
    ap.add_argument("--target", default="plain",
                    help="plain | raw (host files) | device (with --device)")
    ap.add_argument("--device", help="a zoned block device, reset before every run")
    ap.add_argument("--family", help="name of the device's family in the output")
    ap.add_argument("--geometry", default="",
                    help="cap=BYTES,conv=N of --device (what sysfs does not say)")
    ap.add_argument("--scripts", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", type=int, help="run only script number N of the seed")
    ap.add_argument("--max-commands", type=int, default=12)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--work", default=None, help="scratch directory (default: a temp dir)")
    ap.add_argument("--disable", default="", help="comma-separated commands not to generate")
    ap.add_argument("--max-report", type=int, default=5)
    ap.add_argument("--progress", type=int, default=0, metavar="N",
                    help="a progress line on stderr every N scripts")
    ap.add_argument("--log", help="write every divergence's report to this file")
    ap.add_argument("--max-shrink", type=int, default=20,
                    help="shrink only the first N divergences (the rest print whole)")
    ap.add_argument("--simple-cmdline", action="store_true",
                    help="options first, then the image, then -c CMD only (no other orders, "
                         "no stdin, no extra global options): to look at the commands alone")
    ap.add_argument("--list", action="store_true",
                    help="print each script's qemu-io command line and run nothing")
    a = ap.parse_args()
    t0 = time.monotonic()
    own_work = a.work is None
    try:
        if own_work:
            a.work = tempfile.mkdtemp(prefix="qemu-io-diff-",
                                      dir=os.environ.get("TMPDIR", "/var/tmp"))
        else:
            os.makedirs(a.work, exist_ok=True)
        if not shutil.which(a.qemu_io):
            print("SKIP: %s not found (QEMU 10's qemu-utils; ci/deps.sh installs it)" % a.qemu_io)
            return 77
        if not shutil.which(a.zbl_io):
            raise HarnessError("program not found: %s" % a.zbl_io)
        qv = subprocess.run([a.qemu_io, "--version"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, timeout=30).stdout.decode().split("\n")[0]
        a.zbl_io = os.path.abspath(a.zbl_io) if os.path.exists(a.zbl_io) else a.zbl_io
        if a.target in ("plain", "raw"):
            t = Target(a.target, 1 << 20)
        elif a.target == "device":
            if not a.device:
                raise HarnessError("--target device needs --device /dev/X")
            t = device_target(a)
            a.jobs = 1
        else:
            raise HarnessError("unknown --target '%s' (plain, raw, device)" % a.target)
        have = zbl_io_commands(a.zbl_io, a.work)
        enabled = dict(COMMANDS)
        for c in filter(None, a.disable.split(",")):
            if c not in enabled:
                raise HarnessError("--disable: unknown command '%s'" % c)
            enabled[c] = False
        missing = [c for c, on in enabled.items() if on and c not in have]
        for c in missing:
            enabled[c] = False
        on = [c for c, v in enabled.items() if v]
        print("qemu-io-diff: %s vs %s; target %s%s, seed %d, commands generated: %s" % (
            qv, a.zbl_io, t.name, " (%s)" % t.device if t.device else "", a.seed, " ".join(on)))
        if missing:
            print("qemu-io-diff: not in zbl-io's help, not generated: %s" % " ".join(missing))
        if not on:
            raise HarnessError("no command to generate")
        r = Runner(a, t)
        idx = [a.only] if a.only is not None else range(a.scripts)
        scripts = [make_script(a, t, enabled, i) for i in idx]
        if a.list:
            for sc in scripts:
                print("%d: %s%s" % (sc.index, "stdin: %r | " % sc.cmds if sc.stdin else "",
                                    " ".join(shlex.quote(w) for w in ["qemu-io"] + sc.argv())))
            return 0
        with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
            for f in [ex.submit(r.run_script, s) for s in scripts]:
                f.result()
        if a.log:
            with open(a.log, "w") as f:
                f.write("".join(rep + "\n" for rep in r.failures))
        for rep in r.failures[:a.max_report]:
            print(rep)
        if len(r.failures) > a.max_report:
            print("(%d more divergences not shown)" % (len(r.failures) - a.max_report))
        c = r.counts
        print("qemu-io-diff: %s: %d scripts, %d commands, %d runs, %d divergences, %.1f s" % (
            t.name, c["scripts"], c["commands"], c["runs"], c["divergences"],
            time.monotonic() - t0))
        print("qemu-io-diff: documented differences hit: %s" % ", ".join(
            "%s %d" % (k, r.hits[k]) for k in DOCUMENTED))
        print("qemu-io-diff: normalisations applied (scripts): %s" % ", ".join(
            "%s %d" % (k, r.hits[k]) for k in NORMALISED))
        if c["scripts"] == 0:
            print("qemu-io-diff: FAIL: no script ran")
            return 1
        return 1 if c["divergences"] else 0
    except HarnessError as e:
        print("qemu-io-diff: error: %s" % e, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qemu-io-diff: interrupted", file=sys.stderr)
        return 2
    except Exception as e:  # never a traceback: one line naming what broke
        print("qemu-io-diff: internal error: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 2
    finally:
        if own_work and a.work:
            shutil.rmtree(a.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
