//! A throw-away OpenLDAP `slapd` for the LDAP tests: its own configuration,
//! database and port in a temporary directory, seeded with `slapadd` before
//! it starts, and killed when dropped. It never touches a system slapd.

use std::fs;
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::paths::free_port;

const SLAPD: &str = "/usr/sbin/slapd";
/// Loads LDIF into the database offline; shipped with slapd.
const SLAPADD: &str = "/usr/sbin/slapadd";
const SCHEMA_DIR: &str = "/etc/ldap/schema";
const MODULE_DIR: &str = "/usr/lib/ldap";

pub const SUFFIX: &str = "dc=example,dc=org";
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";
pub const ADMIN_PASSWORD: &str = "admin-secret";

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Whether slapd can run here. When it cannot, CI fails the test (it must
/// run there); elsewhere the test is skipped with a message.
pub fn available() -> bool {
    let missing: Vec<&str> = [SLAPD, SLAPADD]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if is_ci() {
        panic!(
            "{} missing: CI runs the LDAP tests against a real slapd; scripts/test installs \
             it (Debian package slapd)",
            missing.join(", ")
        );
    }
    eprintln!(
        "skipping: {} missing (install the Debian package slapd, as scripts/test does)",
        missing.join(", ")
    );
    false
}

/// A running slapd on 127.0.0.1.
pub struct Slapd {
    child: Child,
    url: String,
    /// Configuration, database and log; removed after slapd stops.
    _dir: tempfile::TempDir,
}

impl Slapd {
    /// Starts slapd with `seed_ldif` loaded under [`SUFFIX`].
    pub fn start(seed_ldif: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = dir.path().join("slapd.conf");
        fs::create_dir(dir.path().join("data")).expect("database directory");
        fs::write(&config, slapd_conf(dir.path())).expect("write slapd.conf");
        let seed = dir.path().join("seed.ldif");
        fs::write(&seed, seed_ldif).expect("write the seed LDIF");
        // slapadd fills in the operational attributes (entryUUID and the
        // timestamps) just as an LDAP add would.
        let output = Command::new(SLAPADD)
            .arg("-f")
            .arg(&config)
            .arg("-l")
            .arg(&seed)
            .output()
            .expect("run slapadd");
        assert!(
            output.status.success(),
            "slapadd failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        // The port is free when chosen but could be taken before slapd binds
        // it, so a failed start is retried on another port.
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = free_port().expect("free port");
            let url = format!("ldap://127.0.0.1:{port}");
            let log = dir.path().join("slapd.log");
            let mut child = Command::new(SLAPD)
                .arg("-f")
                .arg(&config)
                .arg("-h")
                .arg(format!("{url}/"))
                // Any -d keeps slapd in the foreground, so it stays our child.
                .args(["-d", "0"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(fs::File::create(&log).expect("slapd log"))
                .spawn()
                .expect("start slapd");
            if wait_until_listening(&mut child, port) {
                return Self {
                    child,
                    url,
                    _dir: dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            last_log = fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("slapd did not start; its log:\n{last_log}");
    }

    /// `ldap://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits until slapd accepts connections on `port`; false if it exits or
/// does not get there in time.
fn wait_until_listening(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn slapd_conf(dir: &Path) -> String {
    let schemas: String = ["core", "cosine", "nis", "inetorgperson"]
        .iter()
        .map(|name| format!("include {SCHEMA_DIR}/{name}.schema\n"))
        .collect();
    // Debian builds the mdb backend as a module; other builds link it in.
    let module = if Path::new(MODULE_DIR).join("back_mdb.so").exists() {
        format!("modulepath {MODULE_DIR}\nmoduleload back_mdb\n")
    } else {
        String::new()
    };
    let path = |name: &str| -> PathBuf { dir.join(name) };
    format!(
        "{schemas}{module}\
         pidfile {pid}\n\
         argsfile {args}\n\
         # Like some real directories, accept \"unauthenticated binds\" (a DN with an\n\
         # empty password), so the tests show the sign-in code refuses them itself.\n\
         allow bind_anon_dn\n\
         database mdb\n\
         suffix \"{SUFFIX}\"\n\
         rootdn \"{ADMIN_DN}\"\n\
         rootpw {ADMIN_PASSWORD}\n\
         directory {data}\n\
         maxsize 16777216\n",
        pid = path("slapd.pid").display(),
        args = path("slapd.args").display(),
        data = path("data").display(),
    )
}

/// alice, bob, carol, dave and `ev*il` (a uid with a filter metacharacter);
/// engineering ⊃ {backend ⊃ {alice, bob}, frontend ⊃ {carol}, dave};
/// admins ⊃ {dave}. One member value is spelled in another case to show DNs
/// are matched the way LDAP compares them.
pub const SEED: &str = "\
dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=org
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice Anderson
sn: Anderson
mail: alice@example.org
userPassword: alice-password

dn: uid=bob,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: bob
cn: Bob Brown
sn: Brown
mail: bob@example.org
userPassword: bob-password

dn: uid=carol,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: carol
cn: Carol Clark
sn: Clark
mail: carol@example.org
userPassword: carol-password

dn: uid=dave,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: dave
cn: Dave Davis
sn: Davis
mail: dave@example.org
userPassword: dave-password

dn: uid=ev*il,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: ev*il
cn: Eve Il
sn: Il
userPassword: evil-password

dn: cn=backend,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: backend
description: Backend team
member: uid=alice,ou=people,dc=example,dc=org
member: uid=bob,ou=people,dc=example,dc=org

dn: cn=frontend,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: frontend
member: uid=carol,ou=people,dc=example,dc=org

dn: cn=engineering,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: engineering
businessCategory: department
member: cn=backend,ou=groups,dc=example,dc=org
member: cn=frontend,ou=groups,dc=example,dc=org
member: uid=Dave,ou=People,dc=example,dc=org

dn: cn=admins,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: admins
member: uid=dave,ou=people,dc=example,dc=org
";
