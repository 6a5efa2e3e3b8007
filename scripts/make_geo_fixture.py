#!/usr/bin/env python3
"""Builds fixtures/geo/country.mmdb, the tiny country database the tests of
app/src/core/geo.rs read (MaxMind DB format, GeoLite2-Country layout).

Regenerate (needs the PyPI packages mmdb-writer and netaddr; tested with
mmdb-writer 0.2.7 and netaddr 1.3.0):

    python3 -m venv /tmp/geo-venv
    /tmp/geo-venv/bin/pip install mmdb-writer netaddr
    /tmp/geo-venv/bin/python scripts/make_geo_fixture.py [OUTPUT]

OUTPUT defaults to fixtures/geo/country.mmdb next to this script's repository.
The output is byte-for-byte reproducible: build_epoch is fixed (2024-01-02).
If you change NETWORKS, update the tests in app/src/core/geo.rs to match.

Records use the GeoIP2/GeoLite2 layout {"country": {"iso_code": ..., "names":
{"en": ...}}, "registered_country": ...}; two records deliberately differ so
the reader's fallbacks are tested: one has only registered_country, one has
only a top-level country_code (the DB-IP / ip-location-db layout).
"""
from __future__ import annotations

import sys
from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

# 2024-01-02T00:00:00Z, so the file does not change when rebuilt.
BUILD_EPOCH = 1704153600

CONTINENTS = {
    "AU": ("OC", "Oceania"),
    "US": ("NA", "North America"),
    "GB": ("EU", "Europe"),
    "SE": ("EU", "Europe"),
    "CN": ("AS", "Asia"),
    "PH": ("AS", "Asia"),
    "JP": ("AS", "Asia"),
    "FR": ("EU", "Europe"),
    "BR": ("SA", "South America"),
    "DE": ("EU", "Europe"),
    "NO": ("EU", "Europe"),
}
NAMES = {
    "AU": "Australia",
    "US": "United States",
    "GB": "United Kingdom",
    "SE": "Sweden",
    "CN": "China",
    "PH": "Philippines",
    "JP": "Japan",
    "FR": "France",
    "BR": "Brazil",
    "DE": "Germany",
    "NO": "Norway",
    "NL": "Netherlands",
}


def geoip2(iso: str) -> dict:
    """A GeoLite2-Country record for a country code."""
    code, continent = CONTINENTS[iso]
    country = {"iso_code": iso, "names": {"en": NAMES[iso]}}
    return {
        "continent": {"code": code, "names": {"en": continent}},
        "country": country,
        "registered_country": country,
    }


# (CIDRs, record). Real-looking ranges (as in MaxMind's own test databases)
# plus the documentation ranges of RFC 5737 / RFC 3849 / RFC 5771.
NETWORKS: list[tuple[list[str], dict]] = [
    (["1.1.1.0/24"], geoip2("AU")),
    (["8.8.8.0/24"], geoip2("US")),
    (["81.2.69.0/24", "2.125.160.0/19"], geoip2("GB")),
    (["89.160.20.0/24"], geoip2("SE")),
    (["175.16.199.0/24"], geoip2("CN")),
    (["202.196.224.0/20"], geoip2("PH")),
    (["192.0.2.0/24", "2001:218::/32"], geoip2("JP")),
    (["198.51.100.0/24"], geoip2("FR")),
    (["203.0.113.0/24"], geoip2("BR")),
    (["2001:db8::/32"], geoip2("DE")),
    (["2a02:cf40::/29"], geoip2("NO")),
    # Only the registered country is known (fallback in the reader).
    (["198.18.0.0/15"], {"registered_country": {"iso_code": "NL", "names": {"en": NAMES["NL"]}}}),
    # DB-IP / ip-location-db layout: a top-level country_code.
    (["233.252.0.0/24"], {"country_code": "CA"}),
]


class FixedEpochWriter(MMDBWriter):
    def _build_meta(self) -> dict:
        meta = super()._build_meta()
        meta["build_epoch"] = BUILD_EPOCH
        return meta


def main() -> int:
    repo = Path(__file__).resolve().parent.parent
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else repo / "fixtures" / "geo" / "country.mmdb"
    writer = FixedEpochWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="GeoLite2-Country",
        languages=["en"],
        description={"en": "Test fixture for app/src/core/geo.rs (not real data)"},
    )
    for cidrs, record in NETWORKS:
        writer.insert_network(IPSet(cidrs), record)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer.to_db_file(str(out))
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
