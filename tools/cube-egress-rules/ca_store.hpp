// cube::egress::ca_store — the cluster CA's files (common/cluster_ca.hpp says where).
//
// Contract: the key is written 0600 and read only when it is a regular file owned by this user and
// closed to group and others (else Error(usage) saying how to fix it), so a key that leaked to
// other readers is never used. The cert is written 0644, the directory created 0755. Files are
// replaced atomically (key first, then cert); a reader that loads between the two renames sees a
// pair that check() refuses, never a half-written file.
#pragma once

#include "ca.hpp"
#include "cluster_ca.hpp"

namespace cube::egress::ca {

enum class WithKey { no, yes };
enum class Replace { no, yes };

// True when the cert or the key file exists.
bool installed(const cluster_ca::Paths& p);

// The installed CA; throws Error(not_found) naming the path when the cert (or, with WithKey::yes,
// the key) is missing.
Authority load(const cluster_ca::Paths& p, WithKey with_key);

enum class Outcome { created, unchanged, replaced };
// Writes `a` (cert and key). A different CA already there is Error(conflict) unless `replace`.
Outcome install(const cluster_ca::Paths& p, const Authority& a, Replace replace);

}  // namespace cube::egress::ca
