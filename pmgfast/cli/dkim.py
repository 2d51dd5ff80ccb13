"""``pmgfast dkim``: DKIM keys and signing of outgoing mail (admin guide 4.7.10).

- ``genkey --selector S --bits 2048``: make the selector's RSA key (at least 1024 bits) at
  ``<config dir>/dkim/S.private`` (an existing key of that size is kept; ``--force`` makes a
  new one), set ``admin.dkim_selector`` to S and print the DNS TXT record to publish for every
  signing domain;
- ``record [--selector S]``: print the TXT record again (default: the configured selector);
- ``sign FILE --sender ADDRESS``: print FILE signed as the filter would sign it (nothing is
  added when the configuration does not sign that mail; ``--force`` signs with
  ``admin.dkim_sign`` off).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from pmgfast.cli import common
from pmgfast.config import ConfigError, load_all, pmgconf


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dkim", help="DKIM keys and signing", description=__doc__)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    genkey = sub.add_parser("genkey", help="make a selector key and print its DNS record")
    genkey.add_argument("--selector", required=True)
    genkey.add_argument("--bits", type=int, default=2048, help="key size (at least 1024)")
    genkey.add_argument("--force", action="store_true", help="replace an existing key")
    genkey.set_defaults(func=cmd_genkey)

    record = sub.add_parser("record", help="print the DNS TXT record of a selector")
    record.add_argument("--selector", help="default: admin.dkim_selector")
    record.set_defaults(func=cmd_record)

    sign = sub.add_parser("sign", help="sign a message as the filter would")
    sign.add_argument("file", type=Path)
    sign.add_argument("--sender", required=True, help="the envelope sender")
    sign.add_argument("--force", action="store_true", help="sign even with dkim_sign off")
    sign.set_defaults(func=cmd_sign)


def _key_error(err: Exception, where: object) -> ConfigError:
    return ConfigError(str(where), None, "admin.dkim_selector", str(err))


def cmd_genkey(args: argparse.Namespace) -> int:
    from pmgfast.dkimsign import DkimKeyError, dns_record, generate_key

    paths = common.paths(args)
    try:
        generate_key(paths.config_dir, args.selector, args.bits, args.force)
        text, size = dns_record(paths.config_dir, args.selector)
    except DkimKeyError as err:
        raise _key_error(err, paths.config_dir / "dkim") from None
    with pmgconf.locked(paths.pmg_conf):
        conf = pmgconf.load(paths.pmg_conf)
        conf.set("admin", "dkim_selector", args.selector)
        conf.save()
    print(text)
    print(f"; {size} bits, key {paths.config_dir / 'dkim' / (args.selector + '.private')}")
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from pmgfast.dkimsign import DkimKeyError, dns_record

    paths = common.paths(args)
    selector = args.selector or pmgconf.load(paths.pmg_conf).get("admin", "dkim_selector")
    if not selector:
        raise ConfigError(str(paths.pmg_conf), None, "admin.dkim_selector", "no selector set")
    try:
        text, _ = dns_record(paths.config_dir, str(selector))
    except DkimKeyError as err:
        raise _key_error(err, paths.config_dir / "dkim") from None
    print(text)
    return 0


def cmd_sign(args: argparse.Namespace) -> int:
    from pmgfast.dkimsign import DkimKeyError, Signer

    paths = common.paths(args)
    settings = load_all(paths.config_dir)
    if args.force:
        settings.pmg.set("admin", "dkim_sign", "1")
    try:
        signer = Signer.from_settings(settings)
    except DkimKeyError as err:
        raise _key_error(err, paths.pmg_conf) from None
    raw = args.file.read_bytes()
    if signer is not None and args.force:
        signer = replace(signer, sign_all=True)
    sys.stdout.buffer.write(signer.sign(raw, args.sender) if signer else raw)
    return 0
