#include "follow.hpp"

#include "error.hpp"
#include "log.hpp"
#include "output.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cube::logs {
namespace {

constexpr size_t k_buffer = 1 << 20;
constexpr size_t k_before = 32;
constexpr int k_wake_ms = 1000;

uint64_t inode_of(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

}  // namespace

Follower::Follower(int dir_fd, std::string dir_path, Style style)
    : m_dir_fd(dir_fd), m_dir_path(std::move(dir_path)), m_style(style), m_buf(k_buffer) {
  m_inotify.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!m_inotify) throw sys_error(errno, "cannot create an inotify instance", Exit::failed);
  // Watch the directory we opened safely, not whatever its path names now: make it our working
  // directory (an O_PATH fd may be) and watch ".". Events on the files inside come to this watch.
  if (::fchdir(dir_fd) != 0) throw sys_error(errno, fmt::format("cannot enter {}", m_dir_path));
  uint32_t mask = IN_MODIFY | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_CLOSE_WRITE;
  if (::inotify_add_watch(m_inotify.get(), ".", mask) < 0)
    throw sys_error(errno, fmt::format("cannot watch {}", m_dir_path));
}

void Follower::add(const std::string& name, const Chain& chain) {
  Tail t{name,
         Fd(::fcntl(chain.current().fd.get(), F_DUPFD_CLOEXEC, 0)),
         chain.current().path,
         chain.current().ino,
         chain.current().size,
         {},
         {},
         false,
         Decoder(m_style)};
  if (!t.fd) throw sys_error(errno, "cannot duplicate a file descriptor");
  // The bytes before our start, which the next read checks (read_to_end says why).
  size_t want = static_cast<size_t>(std::min<uint64_t>(t.pos, k_before));
  t.before.resize(want);
  ssize_t n = ::pread(t.fd.get(), t.before.data(), want, static_cast<off_t>(t.pos - want));
  if (n != static_cast<ssize_t>(want)) {  // it shrank since the snapshot: truncated already
    t.pos = 0;
    t.before.clear();
  }
  m_tails.push_back(std::move(t));
}

void Follower::emit(Tail& t, std::string_view data, bool last, bool newline) {
  t.decoder.feed(Piece{data, !t.mid_record, last, newline});
  t.mid_record = !last;
}

bool Follower::read_to_end(Tail& t) {
  // The first read starts `before` bytes early. When they are missing or changed, the file was
  // truncated (copytruncate), perhaps written again past our offset, and nothing read is ours.
  // Folding that check into the read saves each event two syscalls (an fstat and a pread) of the
  // handful it costs: the latency `--follow` adds is mostly syscalls.
  size_t check = t.before.size();
  for (;;) {
    ssize_t n = ::pread(t.fd.get(), m_buf.data(), m_buf.size(), static_cast<off_t>(t.pos - check));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw sys_error(errno, fmt::format("cannot read {}", t.path));
    size_t got = static_cast<size_t>(n);
    if (got < check || std::memcmp(m_buf.data(), t.before.data(), check) != 0) return false;
    std::string_view data(m_buf.data() + check, got - check);
    check = 0;
    t.pos += data.size();
    size_t keep = std::min(k_before, data.size());
    t.before.append(data.substr(data.size() - keep));
    if (t.before.size() > k_before) t.before.erase(0, t.before.size() - k_before);
    split_lines(t, data);
    // A regular file reads short only at its end, so this is where it ends for now; no read of 0.
    if (got < m_buf.size()) return true;
  }
}

void Follower::split_lines(Tail& t, std::string_view data) {
  while (!data.empty()) {
    const void* nl = std::memchr(data.data(), '\n', data.size());
    if (!nl) {
      t.carry.append(data);
      if (t.carry.size() >= k_buffer) {  // a line longer than the buffer: print it in pieces
        emit(t, t.carry, false, false);
        t.carry.clear();
      }
      return;
    }
    size_t len = static_cast<size_t>(static_cast<const char*>(nl) - data.data());
    if (t.carry.empty()) {
      emit(t, data.substr(0, len), true, true);
    } else {
      t.carry.append(data.substr(0, len + 1));  // with its newline: a Piece's newline is in memory
      emit(t, std::string_view(t.carry).substr(0, t.carry.size() - 1), true, true);
      t.carry.clear();
    }
    data.remove_prefix(len + 1);
  }
}

void Follower::end_of_file(Tail& t) {
  if (!t.carry.empty() || t.mid_record) emit(t, t.carry, true, false);
  t.carry.clear();
}

void Follower::next_file(Tail& t) {
  if (!read_to_end(t)) log::info("{} was truncated after it was rotated; the rest of it is skipped", t.path);
  end_of_file(t);
  std::vector<Segment> segments = open_segments(m_dir_fd, m_dir_path, t.name);  // newest first
  if (segments.empty()) return;
  auto ours = std::find_if(segments.begin(), segments.end(), [&](const Segment& s) { return s.ino == t.ino; });
  Segment* next = nullptr;
  if (ours == segments.begin()) return;  // ours is current again: nothing to switch to
  if (ours == segments.end()) {
    log::warn("{}/{}: rotated more often than there are rotated files since the last read; lines were lost", m_dir_path,
              t.name);
    next = &segments.back();
  } else {
    next = &*(ours - 1);
  }
  t.fd = std::move(next->fd);
  t.path = next->path;
  t.ino = next->ino;
  t.pos = 0;
  t.before.clear();
}

void Follower::catch_up(Tail& t, bool names_changed) {
  if (!read_to_end(t)) {
    log::info("{} was truncated (copytruncate); reading it from the start", t.path);
    end_of_file(t);
    t.pos = 0;
    t.before.clear();
    read_to_end(t);
  }
  if (!names_changed) return;
  // Rotated? Then move file by file to the current one.
  for (int guard = 0; guard < 1000; ++guard) {
    Fd current = open_log_file(m_dir_fd, m_dir_path, t.name);
    if (!current || inode_of(current.get()) == t.ino) return;
    uint64_t before = t.ino;
    next_file(t);
    if (t.ino == before) return;
    read_to_end(t);
  }
}

void Follower::run() {
  bool names_changed = true;
  for (;;) {
    for (auto& t : m_tails) catch_up(t, names_changed);
    output::flush();
    pollfd p{m_inotify.get(), POLLIN, 0};
    int ready = ::poll(&p, 1, k_wake_ms);
    if (ready < 0 && errno != EINTR) throw sys_error(errno, "cannot wait for log changes");
    names_changed = ready == 0;  // the timer: look anyway, in case an event was missed
    alignas(inotify_event) char events[4096];
    for (ssize_t n; (n = ::read(m_inotify.get(), events, sizeof events)) > 0;) {
      for (ssize_t at = 0; at < n;) {
        const auto* e = reinterpret_cast<const inotify_event*>(events + at);
        if (e->mask & ~(IN_MODIFY | IN_CLOSE_WRITE)) names_changed = true;  // incl. IN_Q_OVERFLOW
        at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
      }
      // Room for one more event left means the queue was emptied; an event arriving after it
      // wakes the next poll, so reading again until EAGAIN would only cost a syscall per event.
      if (n + sizeof(inotify_event) + NAME_MAX + 1 <= sizeof events) break;
    }
  }
}

}  // namespace cube::logs
