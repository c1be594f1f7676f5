#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"regd: OCI distribution registry daemon", "regd"};
  CLI11_PARSE(app, argc, argv);
  return 0;
}
