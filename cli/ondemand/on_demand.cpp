#include "cli/ondemand/on_demand.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>

namespace pgsift::cli::ondemand {

void* library(const char* soname, const char* package) {
  static std::mutex mu;
  static std::unordered_map<std::string, void*> loaded;
  std::lock_guard<std::mutex> lock(mu);
  void*& handle = loaded[soname];
  if (handle == nullptr) {
    handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      std::fprintf(stderr, "pgsift: error: cannot load %s: %s (install the %s package)\n", soname,
                   why != nullptr ? why : "unknown error", package);
      std::exit(2);
    }
  }
  return handle;
}

void* symbol(void* library, const char* name, const char* soname) {
  void* address = dlsym(library, name);
  if (address == nullptr) {
    std::fprintf(stderr, "pgsift: error: %s has no function %s (too old?)\n", soname, name);
    std::exit(2);
  }
  return address;
}

}  // namespace pgsift::cli::ondemand
