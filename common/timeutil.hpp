// cube::time — clock helpers. The state file stores times as integer Unix milliseconds (UTC);
// steady_ms() is for intervals.
#pragma once

#include <cstdint>
#include <string>

namespace cube::time {

int64_t now_ms();
int64_t now_ns();
// Milliseconds of a clock that never steps (CLOCK_MONOTONIC): for intervals, never for dates.
int64_t steady_ms();
int64_t steady_us();

// "2026-11-29T19:48:53Z"
std::string rfc3339(int64_t unix_ms);
// "2026-11-29T19:48:53.123Z"
std::string rfc3339_ms(int64_t unix_ms);
// "2026-11-29T19:48:53.123456789Z" (nine digits always, so strings sort as times)
std::string rfc3339_nano(int64_t unix_ns);
// Parses RFC 3339 ("…Z" or "…+02:00", optional fraction up to nine digits) to Unix ns.
// Returns false on anything else, on dates that do not exist (02-30) and on instants outside int64 ns
// (before 1677 or after 2262).
bool parse_rfc3339(std::string_view text, int64_t& unix_ns);

// "45s", "2m", "3h", "4d": the age of something, coarse, for tables and messages.
std::string age(int64_t delta_ms);

// A delay drawn uniformly from [t, 1.5 t) (upstream's report jitter, doc/upstream.md), so that
// many nodes reporting on the same interval drift apart instead of arriving in lockstep. t must be
// positive.
int64_t jittered_ms(int64_t interval_ms);
// Sleeps, resuming after signals that do not end the process.
void sleep_ms(int64_t ms);

}  // namespace cube::time
