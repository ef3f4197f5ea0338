// libpq, loaded when a tool first connects to PostgreSQL, not when it starts.
//
// Linking libpq brings in some two dozen shared libraries (Kerberos, LDAP, OpenSSL…): about 20 ms
// more start-up for every command of a tool that links it, measured with a stub on a test machine,
// though most commands never connect. So the cluster store opens libpq.so.5 with dlopen() on first
// use and calls it through this table; a tool on the SQLite file alone never loads it.
//
// Contract: libpq() returns the loaded table, or throws Error(failed) naming the library and
// dlerror()'s reason, with the Debian package to install.
#pragma once

#include <postgresql/libpq-fe.h>

namespace cube::cluster {

// X(name) for each libpq function the store calls. (clang-format does not settle on a layout for
// a macro of juxtaposed calls: it is left as written.)
// clang-format off
#define CUBE_LIBPQ_FUNCTIONS(X) \
  X(PQconnectStartParams) X(PQconnectPoll) X(PQsocket) X(PQconninfo) X(PQconninfoFree) X(PQstatus) \
  X(PQsetNoticeProcessor) X(PQhost) X(PQport) X(PQerrorMessage) \
  X(PQfinish) X(PQexec) X(PQexecParams) X(PQresultStatus) X(PQresultErrorField) X(PQclear) \
  X(PQntuples) X(PQgetvalue) X(PQgetlength) X(PQgetisnull) X(PQcmdTuples)
// clang-format on

struct Libpq {
#define CUBE_LIBPQ_MEMBER(name) decltype(&::name) name = nullptr;
  CUBE_LIBPQ_FUNCTIONS(CUBE_LIBPQ_MEMBER)
#undef CUBE_LIBPQ_MEMBER
};

const Libpq& libpq();

}  // namespace cube::cluster
