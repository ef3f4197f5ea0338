#include "ca_store.hpp"

#include "error.hpp"
#include "fd.hpp"
#include "fs.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cube::egress::ca {
namespace {

constexpr uint64_t k_max_pem = 1 << 20;

// Reads the key file after checking, on the open descriptor, that nobody else may read it.
SecretText read_key(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd && errno == ENOENT)
    throw Error(Exit::not_found, fmt::format("no CA key at {}", path), "",
                "this node has only the CA cert; import the CA with its key (ca export --with-key)");
  if (!fd) throw sys_error(errno, fmt::format("cannot open the CA key {}", path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw sys_error(errno, fmt::format("cannot stat the CA key {}", path));
  if (!S_ISREG(st.st_mode)) throw Error(Exit::usage, fmt::format("the CA key {} is not a regular file", path));
  if (st.st_uid != ::geteuid() || (st.st_mode & 077) != 0)
    throw Error(Exit::usage,
                fmt::format("the CA key {} is open to other users (mode {:04o}, owner uid {})", path,
                            st.st_mode & 07777, st.st_uid),
                "", fmt::format("it must be mode 0600 and owned by uid {}: chown and chmod 600 it", ::geteuid()));
  return SecretText(fs::read_fd(fd.get(), k_max_pem, path));
}

}  // namespace

bool installed(const cluster_ca::Paths& p) { return fs::exists(p.cert) || fs::exists(p.key); }

Authority load(const cluster_ca::Paths& p, WithKey with_key) {
  if (!fs::exists(p.cert))
    throw Error(Exit::not_found, fmt::format("no cluster CA at {}", p.cert), "",
                "create it with `cube-egress-rules ca init`, or import the cluster's with `ca import`");
  Authority a = parse(fs::read_file(p.cert, k_max_pem), p.cert);
  if (a.key) throw Error(Exit::usage, fmt::format("{} holds a private key", p.cert), "the cert file is world-readable");
  if (with_key == WithKey::yes) {
    SecretText key = read_key(p.key);
    a.key = parse_key(key.text(), p.key);
  }
  return a;
}

Outcome install(const cluster_ca::Paths& p, const Authority& a, Replace replace) {
  Outcome outcome = Outcome::created;
  if (fs::exists(p.cert)) {
    Authority old = parse(fs::read_file(p.cert, k_max_pem), p.cert);
    bool same = same_cert(*old.cert, *a.cert);
    if (!same && replace == Replace::no)
      throw Error(Exit::conflict, fmt::format("a different CA is already installed at {}", p.cert), "",
                  "`ca show` describes it; `ca import --replace` replaces it");
    outcome = same ? Outcome::unchanged : Outcome::replaced;
  } else if (fs::exists(p.key) && replace == Replace::no) {
    throw Error(Exit::conflict, fmt::format("a CA key without its cert is at {}", p.key), "",
                "`ca import --replace` replaces it");
  }
  fs::make_dirs(p.dir, 0755);
  fs::atomic_write(p.key, key_pem(*a.key).text(), 0600);
  fs::atomic_write(p.cert, cert_pem(*a.cert), 0644);
  return outcome;
}

}  // namespace cube::egress::ca
