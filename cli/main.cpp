#include <iostream>

#include "cli/heap.h"
#include "cli/run.h"

int main(int argc, char** argv) {
  pgsift::cli::tune_heap();
  return pgsift::cli::run(argc, argv, std::cout, std::cerr, /*process_exits=*/true);
}
