#include "cluster_reader.hpp"

#include "log.hpp"

namespace cube::rootfs {

void ClusterReader::read(const cluster::Body& body) {
  if (m_url.empty()) {
    auto tx = cluster::on_state_file(m_db);
    body(*tx);
    return;
  }
  if (!m_store) {
    m_store = cluster::open({m_url, ""}, cluster::Access::read);
    log::debug("cluster store: {}", m_store->where());  // a URL's password never prints (redacted)
  }
  m_store->read(body);
}

}  // namespace cube::rootfs
