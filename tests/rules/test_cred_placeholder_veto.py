"""The placeholder veto over the model's credentials findings: references, YAML tags, secret
manager URIs, public keys and addresses are no live secret; a real value still is."""

from __future__ import annotations

import pytest

from monitor.pipeline.classifier.placeholders import only_placeholders


@pytest.mark.parametrize("text", [
    "MAILGUN_API_KEY=<paste your key here> #devops",
    "password = local.db_password  # from the module",
    "smtp_pass: !secret smtp_password",
    "api_key: vault://kv/ci/api_key",
    "EASYPOST_API_KEY=EZTKa81Bc9De2Fg7Hi3Jk5Lm0Np4Qr6St8Uv  # test key",
    "PuTTY-User-Key-File-3 is the header of a .ppk file",
    "follow me: npub1t8024dlm6586p6wpq5smpks475fdz360mrnmvf9f2qq3areapkcs5qlwed",
    "donations go to 0x223a5a40f154c5e265f03604abcd23daf1a9cbc2, thanks!",
    "heads-up: Fly.io tokens now start with fo1_, add that to your scanner",
    "Tipp: Schlüssel mit dem Präfix sk_live_ gehören nie ins Frontend!",
    "fixed in 6b774c6da5bf7bf1c53782c4c1df4ae4fe833199, cherry-picked to the release branch",
    "key fingerprint 9A1B 22C3 44D5 66E7 88F9 0011 2233 4455 6677 8899",
    "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQENBOvmEjUguLvAfoVbSiY4vrOvcYI9dP0u81eNz7id\n-----END PGP PUBLIC KEY BLOCK-----",
])
def test_no_live_secret(text: str) -> None:
    assert only_placeholders(text)


@pytest.mark.parametrize("text", [
    "password = Kx7!pLm2qR",
    "my key nsec1hj62sqax3v2k3k282tdv68q6q558vt3suyfuze67jmtwmrmwzcsq03engf",
    "api_key: vault-Zq81kLpX0vR7mNt2Wy5b",
    "keys start with HRKU- like HRKU-AAbC9x2kLm7Qp4Rt8Vw3Yz6Nb1Hj5Ds0Fg",
    "PuTTY-User-Key-File-3: ssh-ed25519\nPrivate-Lines: 1\nAAAAIGv3Zq81kLpX0vR7mNt2Wy5bHc9JZq81kLpX0vR7mN",
])
def test_a_live_secret_is_not_vetoed(text: str) -> None:
    assert not only_placeholders(text)
