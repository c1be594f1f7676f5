# A Debian package from this tree: `cpack -G DEB` in a build configured with
# -DCMAKE_INSTALL_PREFIX=/usr (scripts/build-deb.sh does the whole thing in a Release build). The
# package holds exactly what `cmake --install --prefix /usr` installs; its dependencies come from
# dpkg-shlibdeps (dpkg-dev), its maintainer scripts from packaging/debian/. Tested by
# tests/packaging/deb_test.sh.
set(CPACK_PACKAGE_NAME regd)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "OCI container registry (regd) and its command-line tool (regctl)")
set(CPACK_PACKAGE_DESCRIPTION "regd serves the OCI distribution API from a storage tree that many stateless \
instances can share; regctl pushes, pulls, verifies and garbage-collects that tree. Includes the systemd \
units regd.service, regd-gc.service and regd-gc.timer.")
set(CPACK_PACKAGE_CONTACT "regd maintainers <regd@localhost>")
set(CPACK_GENERATOR DEB)
# The install rules compute paths from the final prefix (packaging/install.cmake): stage with
# DESTDIR, not with a prefix inside the staging directory.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# postinst creates the user with systemd-sysusers, or adduser without systemd.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${CMAKE_CURRENT_SOURCE_DIR}/debian/conffiles;${CMAKE_CURRENT_SOURCE_DIR}/debian/postinst;${CMAKE_CURRENT_SOURCE_DIR}/debian/prerm;${CMAKE_CURRENT_SOURCE_DIR}/debian/postrm")
include(CPack)
