# Runs at `cmake --install` time, when CMAKE_INSTALL_PREFIX holds the final prefix (--prefix
# included). file(INSTALL) adds DESTDIR and records install_manifest.txt.

# An install directory as an absolute path, by GNUInstallDirs' rules: relative ones go under the
# prefix, except that the prefix /usr keeps its configuration in /etc.
function(regd_full_dir out dir)
  if(IS_ABSOLUTE "${dir}")
    set(full "${dir}")
  elseif(dir STREQUAL "etc" AND CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(full "/etc")
  else()
    set(full "${CMAKE_INSTALL_PREFIX}/${dir}")
  endif()
  set(${out} "${full}" PARENT_SCOPE)
endfunction()

regd_full_dir(REGD_SBINDIR "${REGD_INSTALL_SBINDIR}")
regd_full_dir(REGD_BINDIR "${REGD_INSTALL_BINDIR}")
regd_full_dir(sysconfdir "${REGD_INSTALL_SYSCONFDIR}")
regd_full_dir(unitdir "${REGD_SYSTEMD_UNITDIR}")
regd_full_dir(sysusersdir "${REGD_SYSUSERSDIR}")
set(REGD_CONFIG_FILE "${sysconfdir}/regd/regd.toml")

# regd-gc.service collects the root the installed configuration serves.
file(STRINGS "${REGD_PACKAGING_SRC}/regd.toml" root_line REGEX "^root = \"[^\"]+\"$")
string(REGEX REPLACE "^root = \"([^\"]+)\"$" "\\1" REGD_ROOT "${root_line}")
if(NOT IS_ABSOLUTE "${REGD_ROOT}")
  message(FATAL_ERROR "packaging/regd.toml: no absolute root = \"...\" line")
endif()

configure_file("${REGD_PACKAGING_SRC}/regd.service.in" "${REGD_PACKAGING_BIN}/regd.service" @ONLY)
configure_file("${REGD_PACKAGING_SRC}/regd-gc.service.in" "${REGD_PACKAGING_BIN}/regd-gc.service" @ONLY)
file(INSTALL DESTINATION "${unitdir}" TYPE FILE FILES "${REGD_PACKAGING_BIN}/regd.service"
  "${REGD_PACKAGING_BIN}/regd-gc.service" "${REGD_PACKAGING_SRC}/regd-gc.timer")
file(INSTALL DESTINATION "${sysusersdir}" TYPE FILE RENAME regd.conf FILES "${REGD_PACKAGING_SRC}/regd.sysusers")

# The administrator's configuration survives a reinstall.
if(EXISTS "$ENV{DESTDIR}${REGD_CONFIG_FILE}")
  message(STATUS "Keeping: $ENV{DESTDIR}${REGD_CONFIG_FILE}")
else()
  file(INSTALL DESTINATION "${sysconfdir}/regd" TYPE FILE FILES "${REGD_PACKAGING_SRC}/regd.toml")
endif()
