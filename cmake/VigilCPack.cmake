# `cpack -G DEB` in the build folder (or `make package` at the top) makes
# vigil_<version>_amd64.deb from the install() rules (daemon/, packaging/).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vigil)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Vigil")
set(CPACK_PACKAGE_CONTACT "${VIGIL_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "crisis and risk monitoring daemon for community posts")
# /etc/vigil and the systemd unit folder are absolute install destinations: DESTDIR puts
# them under the package's staging root instead of the build machine's /etc.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${VIGIL_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The extended description (the synopsis is the summary above).
set(CPACK_PACKAGE_DESCRIPTION
    "vigild reads community posts from Kafka (or an embedded in-process broker),
matches them against risk rules with Hyperscan and RE2, groups hits into
incidents kept in SQLite, pages the people who own each kind of risk until
someone acknowledges, and serves an HTTP API with Prometheus metrics.
vigilctl lints and tests rules, produces posts and works incidents and
silences.")
# Library dependencies from dpkg-shlibdeps, after these: the maintainer scripts call
# adduser/deluser.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
# Maintainer scripts 0755 and conffiles 0644 whatever the checkout's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

include(CPack)
