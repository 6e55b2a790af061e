// Shared libraries loaded on first use (dlopen), for the two that most runs
// never need: libpq (only `watch`, `statements` and `--schema-from` talk to a
// server) and libarchive (only compressed logs). Linked at build time, they
// and the ~40 libraries behind them (TLS, Kerberos, LDAP, ICU, XML...) cost
// every process about 15 ms of start-up on the benchmark machine: more than
// analysing a small log takes.
//
// pgsift is therefore not linked against them. libpq.cpp and libarchive.cpp
// define the functions pgsift calls, with the signatures of the real headers
// (checked by the compiler), as forwarders that load the library on the first
// call. A function used in cli/ without a forwarder makes the link of
// `pgsift` fail (undefined reference): add one. Programs that do link the
// real library (the test binary links libpq for its harness) get the
// forwarders too; dlsym() on the library's own handle finds the real
// functions, so nothing loops.
#pragma once

namespace pgsift::cli::ondemand {

/// dlopen()s `soname` once; on failure prints one line naming `package` and
/// exits with status 2 (the library is a package dependency of pgsift).
void* library(const char* soname, const char* package);

/// The address of `name` in the library; exits with status 2 when missing.
void* symbol(void* library, const char* name, const char* soname);

}  // namespace pgsift::cli::ondemand

// Defines the C function `name` as a call through `soname`'s `name`.
#define PGSIFT_ON_DEMAND(soname, package, ret, name, params, args)                          \
  extern "C" ret name params {                                                             \
    static const auto real = reinterpret_cast<decltype(&::name)>(::pgsift::cli::ondemand::symbol( \
        ::pgsift::cli::ondemand::library(soname, package), #name, soname));               \
    return real args;                                                                      \
  }
