// cube::rootfs registry pulls — `--pull REF`: skopeo copies the image from a registry into an OCI
// layout, which the build then reads like any other.
//
// Contract:
// - pull_image() runs `skopeo copy` without a shell. Every value reaches skopeo as one argument of
//   the form --option=VALUE or docker://REF, so none can be read as another option
//   (doc/cube-rootfs.md, "Pulling from a registry"); the caller has checked REF (request.cpp) and
//   made the certificate directory absolute.
// - Credentials (a USER:PASSWORD file) go to skopeo in an auth file written 0600 at
//   `auth_tmp`, which is removed whether the pull succeeds or fails.
// - A failed pull throws Error(failed) naming the reference, with skopeo's own reason and a hint
//   for the usual causes (credentials, an untrusted certificate, a plain-HTTP registry); a missing
//   skopeo throws saying pulling needs it.
#pragma once

#include <string>
#include <vector>

namespace cube::rootfs {

struct PullRequest {
  std::string ref;        // registry reference, without docker://
  std::string layout;     // the OCI layout directory to create (its image is tagged "image")
  std::string auth_file;  // USER:PASSWORD file, or empty
  std::string auth_tmp;   // where the skopeo auth file is written while pulling
  bool tls_verify = true;
  std::string cert_dir;  // CA certificates (*.crt) and client keys for the registry, or empty
};

void pull_image(const PullRequest& req);

// The skopeo argument list for a pull, the auth file's path included when there are credentials.
std::vector<std::string> skopeo_args(const PullRequest& req);
// skopeo's auth file for one registry: {"auths":{HOST:{"auth":base64(USER:PASSWORD)}}}.
std::string registry_auth_json(const std::string& ref, std::string creds);
// The registry host a reference names ("docker.io" when it names none).
std::string registry_host(const std::string& ref);

}  // namespace cube::rootfs
