#include "layer_spool.hpp"

#include "error.hpp"
#include "log.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cube::rootfs {

namespace {

Fd open_spool(const std::string& dir) { return Fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)); }

}  // namespace

SpoolBudget SpoolBudget::for_dir(const std::string& dir) {
  struct statvfs st {};
  if (dir.empty() || ::statvfs(dir.c_str(), &st) != 0) return {};
  if (!open_spool(dir)) {  // the same answer for every layer
    log::debug("no spool in {} ({}): gzip layers are inflated again in the second pass", dir, std::strerror(errno));
    return {};
  }
  return {dir, static_cast<uint64_t>(st.f_bavail) * st.f_frsize / 4};
}

bool SpoolBudget::take(uint64_t n) {
  uint64_t have = left.load();
  while (n <= have)
    if (left.compare_exchange_weak(have, have - n)) return true;
  return false;
}

LayerSpool::LayerSpool(SpoolBudget& budget, std::string name) : m_budget(budget), m_name(std::move(name)) {
  if (m_budget.dir.empty() || m_budget.left == 0) return;
  m_fd = open_spool(m_budget.dir);
  if (!m_fd)
    log::debug("{}: no spool in {} ({}): inflated again in the second pass", m_name, m_budget.dir,
               std::strerror(errno));
}

size_t LayerSpool::read(const void** data) {
  size_t n = m_inner->read(data);
  if (n == 0 || m_dropped || !m_fd) return n;
  if (!m_budget.take(n)) {
    log::debug("{}: spool budget used up: inflated again in the second pass", m_name);
    drop();
    return n;
  }
  const char* p = static_cast<const char*>(*data);
  for (size_t done = 0; done < n;) {
    ssize_t w = ::pwrite(m_fd.get(), p + done, n - done, static_cast<off_t>(m_bytes + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      log::debug("{}: spool write failed ({}): inflated again in the second pass", m_name, std::strerror(errno));
      m_budget.give_back(n);
      drop();
      return n;
    }
    done += static_cast<size_t>(w);
  }
  m_bytes += n;
  return n;
}

void LayerSpool::drop() {
  m_dropped = true;
  m_budget.give_back(m_bytes);
  m_fd.reset();  // an O_TMPFILE: its blocks go with it
}

std::unique_ptr<FileSource> LayerSpool::reopen() const {
  Fd fd(::fcntl(m_fd.get(), F_DUPFD_CLOEXEC, 0));
  if (!fd) throw sys_error(errno, "reopening the spool of " + m_name);
  return std::make_unique<FileSource>(std::move(fd), m_name, 0, static_cast<int64_t>(m_bytes));
}

}  // namespace cube::rootfs
