# `cmake --install`: the juncture command, libjuncture.so (the C API), the C++ layer
# libraries with their public headers, a CMake package (find_package(Juncture) ->
# Juncture::runtime, ::compiler, ::jit, ::c) and juncture.pc. docs/embedding.md.
#
# Two install components, which are also the two Debian packages (JunctureCPack.cmake):
#   runtime  the command and libjuncture.so.N              -> juncture
#   dev      headers, static libraries, libjuncture.so, the
#            CMake package and juncture.pc                 -> juncture-dev
include_guard(GLOBAL)
include(CMakePackageConfigHelpers)

set(JUNCTURE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Juncture)

# The C++ layers consumers link, and the internal static libraries that
# juncture_compiler links privately: a static library's private dependencies are still
# needed at link time, so they are exported too, though their headers are not.
set(JUNCTURE_EXPORTED_LIBS juncture_stdlib juncture_runtime juncture_compiler
  juncture_jit juncture_parse juncture_grammar)
foreach(lib ${JUNCTURE_EXPORTED_LIBS})
  string(REPLACE "juncture_" "" name ${lib})
  set_target_properties(${lib} PROPERTIES EXPORT_NAME ${name})
endforeach()

install(TARGETS juncture RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(TARGETS juncture_c EXPORT JunctureTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS ${JUNCTURE_EXPORTED_LIBS} EXPORT JunctureTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# `cmake --install --strip` (and cpack) strips executables and shared libraries but not
# archives; their debug information is most of their size (RelWithDebInfo: 170 MB).
# Run at install time; @...@ are filled in now, ${...} then.
string(CONFIGURE [[
  if(CMAKE_INSTALL_DO_STRIP)
    file(GLOB archives "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/@CMAKE_INSTALL_LIBDIR@/libjuncture_*.a")
    foreach(archive ${archives})
      execute_process(COMMAND "@CMAKE_STRIP@" --strip-debug ${archive} COMMAND_ERROR_IS_FATAL ANY)
    endforeach()
  endif()
]] strip_archives @ONLY)
install(CODE "${strip_archives}" COMPONENT dev)

# Public headers only: each layer's include/ folder (internal headers live beside the
# sources and are never installed).
install(DIRECTORY
    ${PROJECT_SOURCE_DIR}/stdlib/include/
    ${PROJECT_SOURCE_DIR}/runtime/include/
    ${PROJECT_SOURCE_DIR}/compiler/include/
    ${PROJECT_SOURCE_DIR}/capi/include/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
  FILES_MATCHING PATTERN "*.h")

install(EXPORT JunctureTargets NAMESPACE Juncture::
  DESTINATION ${JUNCTURE_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/JunctureConfig.cmake.in
  ${PROJECT_BINARY_DIR}/JunctureConfig.cmake INSTALL_DESTINATION ${JUNCTURE_CMAKE_DIR})
# Compatible within a major version, as the SONAME (libjuncture.so.MAJOR) says.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/JunctureConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/JunctureConfig.cmake
              ${PROJECT_BINARY_DIR}/JunctureConfigVersion.cmake
  DESTINATION ${JUNCTURE_CMAKE_DIR} COMPONENT dev)
install(FILES ${PROJECT_BINARY_DIR}/capi/juncture.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
