//! IP address → country and cloud provider, for pull analytics (the address
//! itself is never stored). Both sources are optional and loaded once at start
//! ([`Geo::load`]); with nothing configured ([`Geo::empty`]) every lookup
//! answers `None`.
//!
//! **Country**: a MaxMind-format database (`.mmdb`), e.g. `MaxMind`'s
//! GeoLite2-Country or GeoIP2/GeoLite2-City, or DB-IP's country database. The
//! code is read from `country.iso_code`, else `registered_country.iso_code`,
//! else a top-level `country_code` (the ip-location-db layout), and answered
//! as two uppercase ASCII letters; anything else counts as unknown.
//!
//! **Cloud provider**: a directory of the providers' published range files,
//! recognised by file name:
//!
//! | file | provider | format |
//! |---|---|---|
//! | `aws.json` | `aws` | AWS `ip-ranges.json`: `prefixes[].ip_prefix`, `ipv6_prefixes[].ipv6_prefix` |
//! | `gcp.json` | `gcp` | Google Cloud `cloud.json`: `prefixes[].ipv4Prefix` / `ipv6Prefix` |
//! | `azure.json` | `azure` | Azure `ServiceTags_Public_*.json`: `values[].properties.addressPrefixes` of the `AzureCloud` entry, or of every entry when there is none |
//! | `oracle.json` | `oracle` | Oracle `public_ip_ranges.json`: `regions[].cidrs[].cidr` |
//! | `digitalocean.csv` | `digitalocean` | `DigitalOcean`'s geofeed `google.csv`: `prefix,country,region,city,postal` per line, no header (`#` comments and blank lines skipped) |
//! | `NAME.txt` | `NAME` | one CIDR per line; `#` starts a comment, blank lines are skipped. NAME must be `[a-z0-9-]+` (e.g. `alibaba.txt`), else loading fails |
//!
//! Any other file (and any dot-file or subdirectory) is ignored; ignored
//! files are listed by [`Geo::describe`]. Two files may name the same
//! provider (`aws.json` and `aws.txt`); their ranges are combined.
//! Where ranges of two providers overlap, the **narrower prefix wins**; an
//! identical prefix listed by two providers goes to the provider whose file
//! name sorts first.
//!
//! An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is looked up as its IPv4
//! address in both sources. Cloud lookup is a binary search over one sorted
//! table of non-overlapping ranges (IPv4 held in `::ffff:0:0/96`), built at
//! load time.

use std::fmt::{self, Write as _};
use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use ipnet::IpNet;
use maxminddb::Reader;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// IP → country and cloud provider, loaded once at start.
pub struct Geo {
    country: Option<CountryDb>,
    clouds: Option<CloudTable>,
}

struct CountryDb {
    reader: Reader<Vec<u8>>,
}

/// Non-overlapping, sorted ranges `starts[i]..=ends[i]` owned by
/// `providers[owners[i]]`.
struct CloudTable {
    starts: Vec<u128>,
    ends: Vec<u128>,
    owners: Vec<u32>,
    providers: Vec<Provider>,
    ignored: Vec<String>,
}

struct Provider {
    name: String,
    /// Distinct prefixes listed in the provider's files.
    prefixes: usize,
}

// Request handlers share one `Geo` through an `Arc`.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Geo>();
};

impl Geo {
    /// Nothing configured: every lookup answers None.
    #[must_use]
    pub fn empty() -> Geo {
        Geo {
            country: None,
            clouds: None,
        }
    }

    /// Loads the MaxMind-format country database (if given) and every range
    /// file in `clouds` (if given). Errors name the file and what is wrong
    /// (e.g. `clouds/aws.json: line 3 column 20: invalid CIDR "3.5.140/22"`).
    ///
    /// # Errors
    ///
    /// A file that cannot be read or parsed, a range file with a bad CIDR, a
    /// `NAME.txt` whose NAME is not `[a-z0-9-]+`.
    pub fn load(country_db: Option<&Path>, clouds: Option<&Path>) -> Result<Geo, String> {
        let country = country_db.map(load_country).transpose()?;
        let clouds = clouds.map(load_clouds).transpose()?;
        Ok(Geo { country, clouds })
    }

    /// ISO 3166-1 alpha-2 country code (uppercase, 2 letters) for the
    /// address, if the database knows it.
    #[must_use]
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        let db = self.country.as_ref()?;
        let found = db.reader.lookup(unmap(ip)).ok()?;
        let record: CountryRecord<'_> = found.decode().ok()??;
        [
            record.country.and_then(|c| c.iso_code),
            record.registered_country.and_then(|c| c.iso_code),
            record.country_code,
        ]
        .into_iter()
        .flatten()
        .find_map(country_code)
    }

    /// The cloud provider whose published ranges contain the address.
    #[must_use]
    pub fn cloud(&self, ip: IpAddr) -> Option<&str> {
        let table = self.clouds.as_ref()?;
        let key = key(ip);
        let i = table.starts.partition_point(|&start| start <= key);
        let i = i.checked_sub(1)?;
        if key > *table.ends.get(i)? {
            return None;
        }
        let owner = usize::try_from(*table.owners.get(i)?).ok()?;
        table.providers.get(owner).map(|p| p.name.as_str())
    }

    /// What is loaded, for the server's start-up log, e.g. `country database:
    /// GeoLite2-Country (2024-01-02); cloud ranges: aws 3 ranges, gcp 2 ranges`.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut out = String::from("country database: ");
        match &self.country {
            None => out.push_str("none"),
            Some(db) => {
                let meta = db.reader.metadata();
                out.push_str(&meta.database_type);
                if let Some(date) = civil_date(meta.build_epoch) {
                    let _ = write!(out, " ({date})");
                }
            }
        }
        out.push_str("; cloud ranges: ");
        match &self.clouds {
            None => out.push_str("none"),
            Some(table) => {
                let providers: Vec<String> = table
                    .providers
                    .iter()
                    .map(|p| {
                        let s = if p.prefixes == 1 { "" } else { "s" };
                        format!("{} {} range{s}", p.name, p.prefixes)
                    })
                    .collect();
                if providers.is_empty() {
                    out.push_str("no range files");
                } else {
                    out.push_str(&providers.join(", "));
                }
                if !table.ignored.is_empty() {
                    let _ = write!(out, " (ignored: {})", table.ignored.join(", "));
                }
            }
        }
        out
    }
}

impl Default for Geo {
    fn default() -> Self {
        Geo::empty()
    }
}

impl fmt::Debug for Geo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Geo").field(&self.describe()).finish()
    }
}

/// `::ffff:a.b.c.d` → `a.b.c.d`; every other address unchanged.
fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The address as a point of the cloud table (IPv4 in `::ffff:0:0/96`, so a
/// mapped IPv6 address lands on its IPv4 address).
fn key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => v4_key(v4),
        IpAddr::V6(v6) => v6.to_bits(),
    }
}

fn v4_key(v4: Ipv4Addr) -> u128 {
    v4.to_ipv6_mapped().to_bits()
}

fn country_code(code: &str) -> Option<String> {
    let bytes = code.as_bytes();
    (bytes.len() == 2 && bytes.iter().all(u8::is_ascii_alphabetic))
        .then(|| code.to_ascii_uppercase())
}

/// The fields a country lookup reads; everything else in the record is
/// skipped without being decoded.
#[derive(Deserialize)]
struct CountryRecord<'a> {
    #[serde(borrow, default)]
    country: Option<IsoCode<'a>>,
    #[serde(borrow, default)]
    registered_country: Option<IsoCode<'a>>,
    #[serde(borrow, default)]
    country_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct IsoCode<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

fn load_country(path: &Path) -> Result<CountryDb, String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let reader = Reader::from_source(bytes)
        .map_err(|e| format!("{}: not a MaxMind DB file: {e}", path.display()))?;
    Ok(CountryDb { reader })
}

/// `YYYY-MM-DD` (UTC) of a Unix time, for `describe`.
fn civil_date(epoch: u64) -> Option<String> {
    // Howard Hinnant's days-to-civil algorithm.
    let z = i64::try_from(epoch / 86_400).ok()? + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

// ---------------------------------------------------------------------------
// Cloud range files

/// A prefix as the inclusive range of table points it covers.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u128,
    end: u128,
    owner: u32,
}

fn span(net: IpNet, owner: u32) -> Span {
    let (start, end) = match net {
        IpNet::V4(n) => (v4_key(n.network()), v4_key(n.broadcast())),
        IpNet::V6(n) => (n.network().to_bits(), n.broadcast().to_bits()),
    };
    Span { start, end, owner }
}

enum Format {
    Aws,
    Gcp,
    Azure,
    Oracle,
    Geofeed,
    Lines,
}

fn load_clouds(dir: &Path) -> Result<CloudTable, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        // Follows symbolic links (a Kubernetes ConfigMap mounts its files so).
        if entry.path().is_file() {
            names.push(name);
        }
    }
    names.sort();

    let mut providers: Vec<Provider> = Vec::new();
    let mut ignored = Vec::new();
    let mut spans = Vec::new();
    for name in names {
        let (provider, format) = match name.as_str() {
            "aws.json" => ("aws", Format::Aws),
            "gcp.json" => ("gcp", Format::Gcp),
            "azure.json" => ("azure", Format::Azure),
            "oracle.json" => ("oracle", Format::Oracle),
            "digitalocean.csv" => ("digitalocean", Format::Geofeed),
            other => {
                let Some(stem) = other.strip_suffix(".txt") else {
                    ignored.push(name);
                    continue;
                };
                (stem, Format::Lines)
            }
        };
        let path = dir.join(&name);
        let shown = path.display();
        if !valid_provider(provider) {
            return Err(format!(
                "{shown}: provider name {provider:?} must be lowercase letters, digits and '-' only"
            ));
        }
        let owner = match providers.iter().position(|p| p.name == provider) {
            Some(i) => i,
            None => {
                providers.push(Provider {
                    name: provider.to_owned(),
                    prefixes: 0,
                });
                providers.len() - 1
            }
        };
        let owner = u32::try_from(owner).map_err(|_| format!("{shown}: too many providers"))?;
        let bytes = fs::read(&path).map_err(|e| format!("{shown}: {e}"))?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let nets = match format {
            Format::Aws => parse_aws(bytes),
            Format::Gcp => parse_gcp(bytes),
            Format::Azure => parse_azure(bytes),
            Format::Oracle => parse_oracle(bytes),
            Format::Geofeed => parse_lines(bytes, |line| line.split(',').next()),
            Format::Lines => parse_lines(bytes, |line| line.split('#').next()),
        }
        .map_err(|e| format!("{shown}: {e}"))?;
        spans.extend(nets.into_iter().map(|net| span(net, owner)));
    }

    // Sorted by start, wider first, then by provider: an enclosing prefix
    // always comes before the prefixes it contains.
    spans.sort_unstable_by(|a, b| (a.start, b.end, a.owner).cmp(&(b.start, a.end, b.owner)));
    spans.dedup();
    for s in &spans {
        if let Some(p) = usize::try_from(s.owner)
            .ok()
            .and_then(|i| providers.get_mut(i))
        {
            p.prefixes += 1;
        }
    }
    let mut table = CloudTable {
        starts: Vec::new(),
        ends: Vec::new(),
        owners: Vec::new(),
        providers,
        ignored,
    };
    table.flatten(&spans);
    Ok(table)
}

fn valid_provider(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl CloudTable {
    /// Turns sorted prefixes (any two nested or disjoint, as CIDRs are) into
    /// non-overlapping ranges where the innermost prefix owns each address.
    fn flatten(&mut self, spans: &[Span]) {
        // Prefixes that contain the current position, outermost first.
        let mut open: Vec<Span> = Vec::new();
        // Every address below `cursor` is emitted (or owned by nobody).
        let mut cursor: u128 = 0;
        for &next in spans {
            while let Some(&top) = open.last() {
                if top.end >= next.start {
                    break;
                }
                if cursor <= top.end {
                    self.emit(cursor, top.end, top.owner);
                }
                // top.end < next.start, so this cannot overflow.
                cursor = cursor.max(top.end + 1);
                open.pop();
            }
            if let Some(&top) = open.last() {
                if top.start == next.start && top.end == next.end {
                    // The same prefix from a later provider: the first keeps it.
                    continue;
                }
                if cursor < next.start {
                    self.emit(cursor, next.start - 1, top.owner);
                }
            }
            cursor = next.start;
            open.push(next);
        }
        while let Some(top) = open.pop() {
            if cursor <= top.end {
                self.emit(cursor, top.end, top.owner);
            }
            match top.end.checked_add(1) {
                Some(after) => cursor = cursor.max(after),
                None => break,
            }
        }
        self.starts.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.owners.shrink_to_fit();
    }

    /// Appends `start..=end`, merged into the previous range when adjacent
    /// and of the same provider.
    fn emit(&mut self, start: u128, end: u128, owner: u32) {
        if let (Some(last_end), Some(&last_owner)) = (self.ends.last_mut(), self.owners.last())
            && last_owner == owner
            && last_end.checked_add(1) == Some(start)
        {
            *last_end = end;
            return;
        }
        self.starts.push(start);
        self.ends.push(end);
        self.owners.push(owner);
    }
}

/// A CIDR in a JSON range file, checked while parsing so that errors carry
/// the line and column.
struct Cidr(IpNet);

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CidrVisitor;
        impl Visitor<'_> for CidrVisitor {
            type Value = Cidr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a CIDR such as \"192.0.2.0/24\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Cidr, E> {
                parse_cidr(v).map(Cidr).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(CidrVisitor)
    }
}

/// `192.0.2.0/24` or `2001:db8::/32` (host bits are dropped); a bare address
/// is a single-address prefix.
fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    let net = if text.contains('/') {
        text.parse::<IpNet>().ok()
    } else {
        text.parse::<IpAddr>().ok().map(IpNet::from)
    };
    net.map(|n| n.trunc())
        .ok_or_else(|| format!("invalid CIDR {text:?}"))
}

fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| {
        let text = e.to_string();
        if e.line() == 0 {
            return text;
        }
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = text.strip_suffix(&suffix).unwrap_or(&text);
        format!("line {} column {}: {message}", e.line(), e.column())
    })
}

fn parse_aws(bytes: &[u8]) -> Result<Vec<IpNet>, String> {
    #[derive(Deserialize)]
    struct File {
        prefixes: Vec<V4>,
        #[serde(default)]
        ipv6_prefixes: Vec<V6>,
    }
    #[derive(Deserialize)]
    struct V4 {
        ip_prefix: Cidr,
    }
    #[derive(Deserialize)]
    struct V6 {
        ipv6_prefix: Cidr,
    }
    let file: File = parse_json(bytes)?;
    let v4 = file.prefixes.into_iter().map(|p| p.ip_prefix.0);
    let v6 = file.ipv6_prefixes.into_iter().map(|p| p.ipv6_prefix.0);
    Ok(v4.chain(v6).collect())
}

fn parse_gcp(bytes: &[u8]) -> Result<Vec<IpNet>, String> {
    #[derive(Deserialize)]
    struct File {
        prefixes: Vec<Prefix>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Prefix {
        ipv4_prefix: Option<Cidr>,
        ipv6_prefix: Option<Cidr>,
    }
    let file: File = parse_json(bytes)?;
    Ok(file
        .prefixes
        .into_iter()
        .flat_map(|p| [p.ipv4_prefix, p.ipv6_prefix])
        .flatten()
        .map(|c| c.0)
        .collect())
}

fn parse_azure(bytes: &[u8]) -> Result<Vec<IpNet>, String> {
    #[derive(Deserialize)]
    struct File {
        values: Vec<Value>,
    }
    #[derive(Deserialize)]
    struct Value {
        #[serde(default)]
        name: String,
        properties: Properties,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Properties {
        #[serde(default)]
        address_prefixes: Vec<Cidr>,
    }
    let file: File = parse_json(bytes)?;
    let values = file.values;
    let chosen: Vec<Value> = if values.iter().any(|v| v.name == "AzureCloud") {
        values
            .into_iter()
            .filter(|v| v.name == "AzureCloud")
            .collect()
    } else {
        values
    };
    Ok(chosen
        .into_iter()
        .flat_map(|v| v.properties.address_prefixes)
        .map(|c| c.0)
        .collect())
}

fn parse_oracle(bytes: &[u8]) -> Result<Vec<IpNet>, String> {
    #[derive(Deserialize)]
    struct File {
        regions: Vec<Region>,
    }
    #[derive(Deserialize)]
    struct Region {
        cidrs: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        cidr: Cidr,
    }
    let file: File = parse_json(bytes)?;
    Ok(file
        .regions
        .into_iter()
        .flat_map(|r| r.cidrs)
        .map(|e| e.cidr.0)
        .collect())
}

/// One prefix per line, taken by `field` from the line; blank lines and
/// lines starting with `#` are skipped.
fn parse_lines(bytes: &[u8], field: fn(&str) -> Option<&str>) -> Result<Vec<IpNet>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))?;
    let mut nets = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let prefix = field(line).unwrap_or(line).trim();
        let net = parse_cidr(prefix).map_err(|e| format!("line {}: {e}", n + 1))?;
        nets.push(net);
    }
    Ok(nets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const COUNTRY_DB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/geo/country.mmdb");
    const CLOUDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/geo/clouds");

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn fixtures() -> Geo {
        Geo::load(Some(Path::new(COUNTRY_DB)), Some(Path::new(CLOUDS))).unwrap()
    }

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(files: &[(&str, &str)]) -> TempDir {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("geo-test-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            for (name, body) in files {
                fs::write(dir.join(name), body).unwrap();
            }
            TempDir(dir)
        }

        fn load(&self) -> Result<Geo, String> {
            Geo::load(None, Some(&self.0))
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn country_for_v4_v6_and_mapped_addresses() {
        let geo = fixtures();
        let cases = [
            ("1.1.1.1", "AU"),
            ("8.8.8.8", "US"),
            ("81.2.69.160", "GB"),
            ("2.125.170.1", "GB"),
            ("89.160.20.128", "SE"),
            ("175.16.199.1", "CN"),
            ("202.196.224.5", "PH"),
            ("192.0.2.1", "JP"),
            ("198.51.100.7", "FR"),
            ("203.0.113.255", "BR"),
            ("2001:db8::1", "DE"),
            ("2001:218:1::2", "JP"),
            ("2a02:cf47::1", "NO"),
            ("::ffff:1.1.1.1", "AU"),
            ("::ffff:81.2.69.160", "GB"),
            // Only registered_country in the record; only country_code.
            ("198.19.255.1", "NL"),
            ("233.252.0.9", "CA"),
        ];
        for (addr, want) in cases {
            assert_eq!(geo.country(ip(addr)).as_deref(), Some(want), "{addr}");
        }
    }

    #[test]
    fn unknown_address_has_no_country() {
        let geo = fixtures();
        for addr in [
            "10.0.0.1",
            "1.1.2.1",
            "2001:db9::1",
            "::ffff:10.0.0.1",
            "::1",
        ] {
            assert_eq!(geo.country(ip(addr)), None, "{addr}");
        }
    }

    #[test]
    fn every_provider_file_is_recognised() {
        let geo = fixtures();
        let hits = [
            ("3.5.141.7", "aws"),
            ("54.239.1.1", "aws"),
            ("2600:1f00::1", "aws"),
            ("34.1.210.1", "gcp"),
            ("34.81.255.255", "gcp"),
            ("2600:1900:8000::9", "gcp"),
            ("13.64.0.1", "azure"),
            ("2603:1000::1", "azure"),
            ("129.146.7.255", "oracle"),
            ("130.61.2.3", "oracle"),
            ("2603:c020::5", "oracle"),
            ("104.131.0.1", "digitalocean"),
            ("2604:a880::1", "digitalocean"),
            ("47.75.1.1", "alibaba"),
            ("149.129.9.9", "alibaba"),
            ("2401:b180::1", "alibaba"),
            ("::ffff:3.5.140.0", "aws"),
            ("::ffff:47.235.0.1", "alibaba"),
        ];
        for (addr, want) in hits {
            assert_eq!(geo.cloud(ip(addr)), Some(want), "{addr}");
        }
        let misses = [
            "3.5.144.0",     // just past aws 3.5.140.0/22
            "2600:1f01::1",  // past aws 2600:1f00::/40
            "34.1.224.0",    // past gcp 34.1.208.0/20
            "4.145.74.53",   // azure, but only in ActionGroup, not AzureCloud
            "129.146.8.0",   // past oracle 129.146.0.0/21
            "104.131.64.0",  // past digitalocean 104.131.0.0/18
            "2604:a880:1::", // past digitalocean 2604:a880::/48
            "47.76.0.0",     // past alibaba 47.74.0.0/15
            "1.1.1.1",
            "0.0.0.0",
            "255.255.255.255",
            "::",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        ];
        for addr in misses {
            assert_eq!(geo.cloud(ip(addr)), None, "{addr}");
        }
    }

    #[test]
    fn describe_lists_what_is_loaded() {
        let text = fixtures().describe();
        assert_eq!(
            text,
            "country database: GeoLite2-Country (2024-01-02); cloud ranges: alibaba 5 ranges, \
             aws 6 ranges, azure 6 ranges, digitalocean 7 ranges, gcp 5 ranges, oracle 4 ranges"
        );
        assert_eq!(
            Geo::empty().describe(),
            "country database: none; cloud ranges: none"
        );
        let dir = TempDir::new(&[("README.md", "x"), ("a.txt", "192.0.2.0/24\n")]);
        assert_eq!(
            dir.load().unwrap().describe(),
            "country database: none; cloud ranges: a 1 range (ignored: README.md)"
        );
    }

    #[test]
    fn empty_answers_none() {
        let geo = Geo::empty();
        assert_eq!(geo.country(ip("1.1.1.1")), None);
        assert_eq!(geo.cloud(ip("3.5.140.1")), None);
        let geo = Geo::load(None, None).unwrap();
        assert_eq!(geo.country(ip("2001:db8::1")), None);
        assert_eq!(geo.cloud(ip("2600:1f00::1")), None);
    }

    #[test]
    fn narrower_prefix_wins() {
        let dir = TempDir::new(&[
            ("wide.txt", "10.0.0.0/8\n2001:db8::/32\n"),
            ("narrow.txt", "10.1.0.0/16\n10.1.2.0/24\n2001:db8:1::/48\n"),
            ("mid.txt", "10.1.2.0/23\n"),
            // The same prefix twice: the file that sorts first keeps it.
            ("alpha.txt", "172.16.0.0/12\n"),
            ("beta.txt", "172.16.0.0/12\n172.16.5.0/24\n"),
        ]);
        let geo = dir.load().unwrap();
        let cases = [
            ("10.0.0.1", Some("wide")),
            ("10.1.0.0", Some("narrow")),
            ("10.1.1.255", Some("narrow")),
            ("10.1.2.9", Some("narrow")),
            ("10.1.3.9", Some("mid")),
            ("10.1.4.0", Some("narrow")),
            ("10.2.0.0", Some("wide")),
            ("10.255.255.255", Some("wide")),
            ("11.0.0.0", None),
            ("2001:db8::1", Some("wide")),
            ("2001:db8:1::1", Some("narrow")),
            ("2001:db8:2::1", Some("wide")),
            ("172.16.0.1", Some("alpha")),
            ("172.16.5.1", Some("beta")),
            ("172.31.255.255", Some("alpha")),
        ];
        for (addr, want) in cases {
            assert_eq!(geo.cloud(ip(addr)), want, "{addr}");
        }
    }

    #[test]
    fn table_matches_a_naive_search() {
        // Nested and adjacent prefixes of three providers, checked against
        // "the narrowest listed prefix that contains the address".
        let lists = [
            (
                "a",
                "0.0.0.0/0\n10.0.0.0/8\n10.0.0.0/24\n10.0.1.0/24\n::/0\n",
            ),
            (
                "b",
                "10.0.0.128/25\n10.0.0.0/16\n10.0.2.0/24\n10.0.3.0/24\n",
            ),
            (
                "c",
                "10.0.0.192/26\n10.0.2.0/25\n2001:db8::/33\n2001:db8::/34\n",
            ),
        ];
        let files: Vec<(String, &str)> = lists
            .iter()
            .map(|(name, body)| (format!("{name}.txt"), *body))
            .collect();
        let refs: Vec<(&str, &str)> = files.iter().map(|(n, b)| (n.as_str(), *b)).collect();
        let dir = TempDir::new(&refs);
        let geo = dir.load().unwrap();
        let all: Vec<(&str, IpNet)> = lists
            .iter()
            .flat_map(|(name, body)| body.lines().map(move |l| (*name, l.parse().unwrap())))
            .collect();
        let naive = |addr: IpAddr| {
            all.iter()
                .filter(|(_, net)| net.contains(&addr))
                .max_by_key(|(name, net)| (net.prefix_len(), std::cmp::Reverse(*name)))
                .map(|(name, _)| *name)
        };
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let low = u32::try_from(x & 0x3_ffff).unwrap();
            let v4 = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | low));
            let v6 = IpAddr::V6(Ipv6Addr::from(
                (0x2001_0db8_u128 << 96) ^ (u128::from(x) << 33),
            ));
            for addr in [v4, v6] {
                assert_eq!(geo.cloud(addr), naive(addr), "{addr}");
            }
        }
        assert_eq!(geo.cloud(ip("255.255.255.255")), Some("a"));
        assert_eq!(geo.cloud(ip("ffff::1")), Some("a"));
    }

    #[test]
    fn azure_without_azurecloud_uses_every_value() {
        let dir = TempDir::new(&[(
            "azure.json",
            r#"{"values":[{"name":"Storage","properties":{"addressPrefixes":["20.38.96.0/19"]}},
                          {"name":"Sql","properties":{"addressPrefixes":["2603:1000:4::/64"]}}]}"#,
        )]);
        let geo = dir.load().unwrap();
        assert_eq!(geo.cloud(ip("20.38.100.1")), Some("azure"));
        assert_eq!(geo.cloud(ip("2603:1000:4::1")), Some("azure"));
    }

    #[test]
    fn large_aws_file_loads() {
        let mut body = String::from(r#"{"syncToken":"1","prefixes":["#);
        for i in 0..10_000_u32 {
            let a = 0x0300_0000 + i * 256;
            let sep = if i == 0 { "" } else { "," };
            body.push_str(&format!(
                r#"{sep}{{"ip_prefix":"{}/24","region":"us-east-1","service":"AMAZON"}}"#,
                Ipv4Addr::from(a)
            ));
        }
        body.push_str(r#"],"ipv6_prefixes":[]}"#);
        let dir = TempDir::new(&[("aws.json", &body)]);
        let geo = dir.load().unwrap();
        assert_eq!(geo.cloud(ip("3.0.0.0")), Some("aws"));
        assert_eq!(geo.cloud(ip("3.39.15.255")), Some("aws"));
        assert_eq!(geo.cloud(ip("3.39.16.0")), None);
        // Adjacent prefixes of one provider collapse into one range.
        let table = geo.clouds.as_ref().unwrap();
        assert_eq!(table.starts.len(), 1);
        assert!(geo.describe().contains("aws 10000 ranges"));
    }

    #[test]
    fn bad_files_are_errors_naming_the_file() {
        let dir = TempDir::new(&[(
            "aws.json",
            "{\n  \"prefixes\": [\n    {\"ip_prefix\": 3}\n]}",
        )]);
        let err = dir.load().unwrap_err();
        assert!(err.contains("aws.json: line 3 column"), "{err}");
        assert!(err.contains("a CIDR"), "{err}");

        let dir = TempDir::new(&[("gcp.json", "{\"prefixes\": [")]);
        let err = dir.load().unwrap_err();
        assert!(err.contains("gcp.json: line 1 column"), "{err}");

        let dir = TempDir::new(&[(
            "oracle.json",
            "{\"regions\": [{\"cidrs\": [{\"cidr\": \"130.61.0.0/33\"}]}]}",
        )]);
        let err = dir.load().unwrap_err();
        assert!(err.contains("oracle.json: line 1 column"), "{err}");
        assert!(err.contains("invalid CIDR \"130.61.0.0/33\""), "{err}");

        // The wrong provider's file under a provider's name.
        let dir = TempDir::new(&[("aws.json", "{\"values\": []}")]);
        let err = dir.load().unwrap_err();
        assert!(err.contains("aws.json: line 1 column"), "{err}");
        assert!(err.contains("missing field `prefixes`"), "{err}");

        let dir = TempDir::new(&[("alibaba.txt", "# list\n47.74.0.0/15\n47.235.0.0/16x\n")]);
        let err = dir.load().unwrap_err();
        assert!(
            err.contains("alibaba.txt: line 3: invalid CIDR \"47.235.0.0/16x\""),
            "{err}"
        );

        let dir = TempDir::new(&[(
            "digitalocean.csv",
            "5.101.96.0/21,NL,NL-NH,Amsterdam,1098\nprefix,country\n",
        )]);
        let err = dir.load().unwrap_err();
        assert!(
            err.contains("digitalocean.csv: line 2: invalid CIDR \"prefix\""),
            "{err}"
        );

        for name in ["Alibaba.txt", "my_cloud.txt", "a.b.txt"] {
            let dir = TempDir::new(&[(name, "192.0.2.0/24\n")]);
            let err = dir.load().unwrap_err();
            assert!(err.contains(name), "{err}");
            assert!(err.contains("provider name"), "{err}");
        }
    }

    #[test]
    fn missing_paths_are_errors_naming_them() {
        let missing = std::env::temp_dir().join("geo-test-no-such-file.mmdb");
        let err = Geo::load(Some(&missing), None).err().unwrap();
        assert!(err.starts_with(&missing.display().to_string()), "{err}");

        let not_mmdb = TempDir::new(&[("country.mmdb", "not a database")]);
        let path = not_mmdb.0.join("country.mmdb");
        let err = Geo::load(Some(&path), None).err().unwrap();
        assert!(err.contains("country.mmdb: not a MaxMind DB file"), "{err}");

        let missing = std::env::temp_dir().join("geo-test-no-such-dir");
        let err = Geo::load(None, Some(&missing)).err().unwrap();
        assert!(err.starts_with(&missing.display().to_string()), "{err}");
    }

    #[test]
    fn other_files_text_details() {
        // Comments, blank lines, CRLF, a BOM, a bare address and host bits.
        let dir = TempDir::new(&[
            (
                "x-1.txt",
                "\u{feff}# c\r\n\r\n192.0.2.7\r\n198.51.100.9/24 # note\r\n",
            ),
            ("notes.json", "not json"),
        ]);
        let geo = dir.load().unwrap();
        assert_eq!(geo.cloud(ip("192.0.2.7")), Some("x-1"));
        assert_eq!(geo.cloud(ip("192.0.2.8")), None);
        assert_eq!(geo.cloud(ip("198.51.100.200")), Some("x-1"));
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0).as_deref(), Some("1970-01-01"));
        assert_eq!(civil_date(1_704_153_600).as_deref(), Some("2024-01-02"));
        assert_eq!(civil_date(951_782_400).as_deref(), Some("2000-02-29"));
        assert!(civil_date(u64::MAX).is_some());
    }
}
