// cube::seccomp — confine a process to an allowlist of system calls once its set-up is done.
//
// Contract (doc/conventions.md "Untrusted input"): tools that parse untrusted bulk data build a
// Filter from syscall names, then load() it after every file they need is open. Calls outside the
// list fail with EPERM by default (not a kill), so a missed call shows up as an error message naming
// the operation instead of a dead process; Denied::kill is for code that parses hostile data.
// Unknown names (a call this architecture lacks) are skipped. Every tool that confines itself
// offers `--no-seccomp` for debugging; the flag simply skips load().
#pragma once

#include <linux/filter.h>
#include <seccomp.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cube::seccomp {

// What a call outside the list does: fail with EPERM (a reader can report it and go on), or kill
// the process with SIGSYS (a parser of hostile data must stop at once).
enum class Denied { eperm, kill };

class Filter {
 public:
  explicit Filter(Denied denied = Denied::eperm);

  // Allows each named call with any arguments.
  Filter& allow(std::initializer_list<std::string_view> names);
  // Allows `name` only when its first argument (an fd for write/writev) is one of `values`.
  Filter& allow_arg0(std::string_view name, std::initializer_list<uint64_t> values);
  // Allows `name` only when its first argument has all of `bits` set (clone with CLONE_THREAD:
  // threads, but no new processes).
  Filter& allow_arg0_bits(std::string_view name, uint64_t bits);
  // Makes each named call fail with `error` instead of being denied (clone3 with ENOSYS, so the C
  // library falls back to clone, whose flags a filter can see).
  Filter& fail(std::initializer_list<std::string_view> names, int error);

  // Installs the filter (with no_new_privs) for this thread and any it starts later. A sanitizer
  // build (make SAN=1) skips it: the sanitizer runtimes need calls no allowlist should grant.
  void load();
  // The filter as readable PFC text, so tests and reviewers can see what is allowed.
  std::string pfc() const;
  // The filter as the BPF program load() would install, for a tool that compiles its filter at
  // build time and installs it with load_bpf().
  std::vector<sock_filter> bpf() const;

 private:
  struct Release {
    void operator()(void* ctx) const { seccomp_release(ctx); }
  };
  std::unique_ptr<void, Release> m_ctx;
};

// Installs a BPF program that Filter::bpf() made (at build time), with no_new_privs, for this
// thread and any it starts later. Building a filter with libseccomp costs about 0.15 ms at every
// start; a reader started once per command compiles it into the binary instead. A sanitizer build
// skips it, as Filter::load() does.
void load_bpf(std::span<const sock_filter> program);

// True when this process already runs under a seccomp filter (/proc/self/status Seccomp: 2).
bool active();

}  // namespace cube::seccomp
