# Install rules of the client library, its package config, and a Mosquitto
# configuration snippet that loads the plugin. Included from clients/cpp/.
#
# Layout (relative to CMAKE_INSTALL_PREFIX; GNUInstallDirs decides LIBDIR:
# lib/<multiarch> for the prefix /usr on Debian, lib otherwise):
#   bin/courier                                  the CLI (tools/)
#   ${COURIER_PLUGIN_INSTALL_DIR}/mosquitto_courier.so   the plugin (plugin/)
#   include/courier/client.h                     the library's header
#   LIBDIR/libcourier_client.a, libcourier_client_proto.a
#   LIBDIR/cmake/Courier/                        CourierConfig.cmake & co.
#   share/courier/courier.conf                   conf.d snippet loading the plugin
#   share/courier/mosquitto.conf.example         every plugin option
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(COURIER_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/Courier")
set(COURIER_INSTALL_LIBDIR "${CMAKE_INSTALL_LIBDIR}")

install(TARGETS courier_client EXPORT CourierTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES $<TARGET_FILE:courier_proto>
  DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RENAME libcourier_client_proto.a)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/clients/cpp/include/courier
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT CourierTargets
  NAMESPACE Courier::
  DESTINATION ${COURIER_CMAKE_INSTALL_DIR})

configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/CourierConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/CourierConfig.cmake
  INSTALL_DESTINATION ${COURIER_CMAKE_INSTALL_DIR}
  PATH_VARS COURIER_INSTALL_LIBDIR)
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/CourierConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/CourierConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/CourierConfigVersion.cmake
  DESTINATION ${COURIER_CMAKE_INSTALL_DIR})

# The plugin's directory (COURIER_PLUGIN_INSTALL_DIR, set in plugin/) as an
# absolute path at install time, so `cmake --install --prefix P` is honoured.
install(FILES ${PROJECT_SOURCE_DIR}/mosquitto.conf.example
  DESTINATION ${CMAKE_INSTALL_DATADIR}/courier)
install(CODE "
  set(_dir \"${COURIER_PLUGIN_INSTALL_DIR}\")
  if(NOT IS_ABSOLUTE \"\${_dir}\")
    set(_dir \"\${CMAKE_INSTALL_PREFIX}/\${_dir}\")
  endif()
  set(_snippet \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/courier/courier.conf\")
  message(STATUS \"Installing: \${_snippet}\")
  file(WRITE \"\${_snippet}\" \"# Courier for Debian's mosquitto: copy this file to /etc/mosquitto/conf.d/
# (Debian's /etc/mosquitto/mosquitto.conf includes that directory), create
# the data directory for the mosquitto user:
#   install -d -o mosquitto -g mosquitto -m 0700 /var/lib/courier
# and restart mosquitto. Every option: mosquitto.conf.example next to this file.

# Courier commits once per broker loop round, on the tick event, which
# Mosquitto 2.0 sends only with per_listener_settings false.
per_listener_settings false

plugin \${_dir}/mosquitto_courier.so
plugin_opt_db_path /var/lib/courier/db
\")
")
