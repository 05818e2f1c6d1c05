#!/usr/bin/env python3
"""Generate a signed demo archive: a small government PKI and n signed administrative documents.

Layout written under OUT:

    trust/root.pem            the demo root CA (RSA-2048)
    trust/intermediates.pem   the issuing CA
    archive/<year>/<kind>/<id>.<ext>        content of a detached signature
    archive/<year>/<kind>/<id>.<ext>.p7s    detached CMS (DER)
    archive/<year>/<kind>/<id>.<ext>.p7m    attached CMS (DER), no separate content file
    expected.json             {"documents": {signature path relative to archive/: code}, ...}

Most documents are good (``ok``); a deterministic few are damaged after signing
(``digest_mismatch``: content changed; ``signature_invalid``: one bit of the signature value
flipped) or signed by a certificate that expired in 2021 (``cert_expired``). Content, names,
paths and expected codes depend only on the seed; signature bytes also carry the signing time.

Usage: python3 scripts/make_archive.py OUT [-n 3000] [--seed S] [--force]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import pki  # noqa: E402  (tests/pki.py, the deterministic test PKI)

DEFAULT_SEED = "govsig-demo-v1"

PROVINCES = ["Hà Giang", "Lào Cai", "Điện Biên", "Nghệ An", "Quảng Nam", "Đắk Lắk", "Cần Thơ",
             "Thừa Thiên Huế", "Bắc Ninh", "Sóc Trăng"]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Thanh", "Quốc", "Ngọc", "Đức"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hạnh", "Hùng", "Khánh", "Lan", "Mai", "Nam",
         "Phương", "Quân", "Sơn", "Thảo", "Trung", "Tuấn", "Yến"]
SUBJECTS = [
    "phê duyệt kế hoạch cải cách hành chính năm {year}",
    "giao chỉ tiêu thu ngân sách nhà nước cho các huyện",
    "thành lập Tổ công tác chuyển đổi số cấp tỉnh",
    "cấp giấy phép xây dựng công trình nhà ở riêng lẻ",
    "điều chỉnh quy hoạch sử dụng đất đến năm 2030",
    "hỗ trợ hộ nghèo đón Tết Nguyên đán",
    "tổ chức kỳ thi tuyển dụng công chức",
    "triển khai dịch vụ công trực tuyến toàn trình",
]
SENTENCES = [
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "Căn cứ Nghị định số 68/2024/NĐ-CP quy định về chữ ký số chuyên dùng công vụ;",
    "Theo đề nghị của Giám đốc Sở Nội vụ tại Tờ trình số {num}/TTr-SNV;",
    "Các sở, ban, ngành và Ủy ban nhân dân các huyện chịu trách nhiệm thi hành Quyết định này.",
    "Giao Văn phòng Ủy ban nhân dân tỉnh theo dõi, đôn đốc việc thực hiện.",
    "Kinh phí thực hiện được bố trí từ nguồn ngân sách địa phương năm {year}.",
    "Quyết định này có hiệu lực kể từ ngày ký.",
    "Trong quá trình thực hiện, nếu có vướng mắc, các đơn vị phản ánh kịp thời để xem xét.",
    "Hồ sơ gồm bản sao giấy tờ tùy thân, đơn đề nghị và bản vẽ thiết kế đã được thẩm định.",
    "Thời hạn giải quyết không quá mười lăm ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ.",
]


@dataclass(frozen=True)
class DemoPki:
    root: pki.Issued
    intermediate: pki.Issued
    signers: tuple[pki.Issued, ...]   # valid today: RSA-2048 and P-256
    expired: pki.Issued               # RSA-2048, valid 2020-01-01..2021-01-01


def make_demo_pki(seed: str = DEFAULT_SEED) -> DemoPki:
    root = pki.make_root("Root CA Chính phủ (demo)", "rsa2048", seed=f"{seed}|root",
                         org="Ban Cơ yếu Chính phủ (demo)")
    inter = pki.make_intermediate("CA ký số chuyên dùng công vụ (demo)", root, "rsa2048",
                                  seed=f"{seed}|ca", org="Ban Cơ yếu Chính phủ (demo)")
    people = [
        ("Nguyễn Văn An", "rsa2048", "Hà Giang"),
        ("Trần Thị Bình", "p256", "Lào Cai"),
        ("Lê Hữu Cường", "rsa2048", "Nghệ An"),
        ("Phạm Ngọc Dung", "p256", "Quảng Nam"),
        ("Hoàng Minh Đức", "p256", "Cần Thơ"),
    ]
    signers = tuple(
        pki.make_leaf(cn, inter, kt, seed=f"{seed}|{cn}",
                      org=f"Ủy ban nhân dân tỉnh {prov}", locality=prov,
                      eku=("email_protection", "client_auth"))
        for cn, kt, prov in people
    )
    expired = pki.make_leaf(
        "Bùi Thanh Hùng", inter, "rsa2048", seed=f"{seed}|expired",
        org="Ủy ban nhân dân tỉnh Điện Biên", locality="Điện Biên",
        eku=("email_protection", "client_auth"),
        not_before=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
        not_after=dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc))
    return DemoPki(root, inter, signers, expired)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _body(rng: random.Random, year: int, target: int) -> list[str]:
    out: list[str] = []
    size = 0
    while size < target:
        s = rng.choice(SENTENCES).format(num=rng.randint(10, 999), year=year)
        out.append(s)
        size += len(s.encode("utf-8")) + 1
    return out


def make_document(rng: random.Random, idx: int) -> tuple[int, str, str, bytes]:
    """(year, kind, file name, content) of one administrative document, 1-4 KiB of UTF-8."""
    year = rng.choice([2024, 2025, 2026])
    province = rng.choice(PROVINCES)
    subject = rng.choice(SUBJECTS).format(year=year)
    number = f"{idx + 1:06d}"
    target = rng.randint(1150, 3400)
    kind = rng.choice(["quyet-dinh", "cong-van", "giay-phep", "ho-so"])
    signer_name = _person(rng)
    if kind == "giay-phep":
        doc = {
            "so": f"{number}/GP-UBND",
            "loai": "Giấy phép xây dựng",
            "co_quan_cap": f"Ủy ban nhân dân tỉnh {province}",
            "nguoi_de_nghi": _person(rng),
            "dia_chi": f"Số {rng.randint(1, 300)}, đường {rng.choice(GIVEN)}, {province}",
            "noi_dung": _body(rng, year, target - 400),
            "ngay_cap": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "nguoi_ky": signer_name,
        }
        return year, kind, f"GP-{number}.json", json.dumps(doc, ensure_ascii=False, indent=2).encode()
    if kind == "ho-so":
        items = "".join(f"    <giayTo stt=\"{i + 1}\">{s}</giayTo>\n"
                        for i, s in enumerate(_body(rng, year, target - 400)))
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<hoSo so="{number}/HS" coQuan="Ủy ban nhân dân tỉnh {province}">\n'
            f"  <thuTuc>{subject}</thuTuc>\n"
            f"  <nguoiNop>{_person(rng)}</nguoiNop>\n"
            f"  <thanhPhan>\n{items}  </thanhPhan>\n"
            f"  <nguoiKy>{signer_name}</nguoiKy>\n"
            "</hoSo>\n"
        )
        return year, kind, f"HS-{number}.xml", xml.encode()
    head = "QUYẾT ĐỊNH" if kind == "quyet-dinh" else "CÔNG VĂN"
    code = "QĐ-UBND" if kind == "quyet-dinh" else "UBND-VP"
    text = "\n".join([
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "",
        f"ỦY BAN NHÂN DÂN TỈNH {province.upper()}",
        f"Số: {number}/{code}",
        f"{province}, ngày {rng.randint(1, 28)} tháng {rng.randint(1, 12)} năm {year}",
        "",
        head,
        f"Về việc {subject}",
        "",
        *_body(rng, year, target - 400),
        "",
        "TM. ỦY BAN NHÂN DÂN",
        "CHỦ TỊCH",
        signer_name,
        "",
    ])
    prefix = "QD" if kind == "quyet-dinh" else "CV"
    return year, kind, f"{prefix}-{number}.txt", text.encode()


def _planned_outcome(i: int) -> str:
    # Fixed residues rather than random draws: every archive of 14+ documents has at least one
    # of each outcome, and the proportions (~2%, ~1%, ~1.6%) are the same at any size.
    if i % 50 == 7:
        return "digest_mismatch"
    if i % 97 == 13:
        return "signature_invalid"
    if i % 61 == 5:
        return "cert_expired"
    return "ok"


def make_archive(out_dir: str | Path, n: int = 3000, seed: str = DEFAULT_SEED) -> dict:
    """Write the demo PKI and ``n`` signed documents under ``out_dir``; return expected.json's
    content. ``out_dir/archive`` must not already exist."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    out = Path(out_dir)
    archive = out / "archive"
    if archive.exists():
        raise FileExistsError(f"{archive} already exists; remove it or pick another directory")
    demo = make_demo_pki(seed)
    (out / "trust").mkdir(parents=True, exist_ok=True)
    (out / "trust" / "root.pem").write_bytes(demo.root.pem)
    (out / "trust" / "intermediates.pem").write_bytes(demo.intermediate.pem)
    archive.mkdir(parents=True)

    rng = random.Random(f"{seed}|documents")
    expected: dict[str, str] = {}
    made_dirs: set[Path] = set()
    for i in range(n):
        year, kind, fname, content = make_document(rng, i)
        outcome = _planned_outcome(i)
        signer = demo.expired if outcome == "cert_expired" else rng.choice(demo.signers)
        detached = rng.random() < 0.5
        d = archive / str(year) / kind
        if d not in made_dirs:
            d.mkdir(parents=True, exist_ok=True)
            made_dirs.add(d)
        # The chain goes in the CMS as real signers do; the verifier still needs the root.
        sig = pki.sign_cms(content, signer, detached=detached, engine="cryptography")
        if outcome == "signature_invalid":
            sig = pki.tamper_signature(sig)
        if detached:
            if outcome == "digest_mismatch":
                content = pki.tamper_content(content)
            (d / fname).write_bytes(content)
            sig_path = d / f"{fname}.p7s"
        else:
            if outcome == "digest_mismatch":
                sig = pki.tamper_encapsulated(sig)
            sig_path = d / f"{fname}.p7m"
        sig_path.write_bytes(sig)
        expected[sig_path.relative_to(archive).as_posix()] = outcome

    counts: dict[str, int] = {}
    for code in expected.values():
        counts[code] = counts.get(code, 0) + 1
    result = {
        "seed": seed,
        "n": n,
        "archive": "archive",
        "trust": {"root": "trust/root.pem", "intermediates": "trust/intermediates.pem"},
        "counts": dict(sorted(counts.items())),
        "documents": dict(sorted(expected.items())),
    }
    (out / "expected.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n",
                                       encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="output directory")
    ap.add_argument("-n", type=int, default=3000, help="number of documents (default 3000)")
    ap.add_argument("--seed", default=DEFAULT_SEED)
    ap.add_argument("--force", action="store_true", help="replace an existing OUT/archive")
    args = ap.parse_args(argv)
    if args.force:
        shutil.rmtree(args.out / "archive", ignore_errors=True)
    t = time.perf_counter()
    try:
        res = make_archive(args.out, args.n, args.seed)
    except (FileExistsError, ValueError) as e:
        print(f"make_archive: {e}", file=sys.stderr)
        return 2
    took = time.perf_counter() - t
    summary = ", ".join(f"{k}={v}" for k, v in res["counts"].items())
    print(f"{res['n']} documents in {args.out / 'archive'} in {took:.1f} s ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
