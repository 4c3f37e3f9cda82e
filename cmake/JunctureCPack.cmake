# `cpack -G DEB` (in the build folder): two Debian packages from the install
# components of JunctureInstall.cmake, installed under /usr.
#   juncture      the command and libjuncture.so.N; Depends computed by dpkg-shlibdeps
#   juncture-dev  headers, static libraries, the CMake package and juncture.pc; Depends
#                 on the -dev packages the static libraries need at link time
include_guard(GLOBAL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME juncture)
set(CPACK_PACKAGE_VENDOR "Juncture")
set(CPACK_PACKAGE_CONTACT "Juncture maintainers <juncture@juncture.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Real-time customer-journey engine")  # the synopsis
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # juncture_0.1.0_amd64.deb
# Binaries are built RelWithDebInfo; the packages carry them stripped.
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME juncture)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
# libjuncture.so.0 is a public shared library: a shlibs file and the ldconfig trigger.
# (No per-component form of this variable; juncture-dev has no versioned library.)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")  # the SONAME is the promise
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
  "The juncture command (lint, run, serve, ...) and libjuncture.so, the C API.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME juncture-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "juncture (= ${PROJECT_VERSION}), libantlr4-runtime-dev, llvm-19-dev, libsimdjson-dev, nlohmann-json3-dev, libssl-dev, libcctz-dev, libxxhash-dev, libzstd-dev, pkg-config")
set(CPACK_DEBIAN_DEV_DESCRIPTION
  "Development files: headers and libraries to embed the Juncture engine: find_package(Juncture) in CMake\n(Juncture::runtime, Juncture::compiler, Juncture::jit, Juncture::c), and juncture.pc.")

include(CPack)
