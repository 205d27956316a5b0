# Key separation (sign-v1 keys apart), secret key file permissions, --dir without symbolic
# links, CLI exit codes: regression tests (label security).
pqcoap_test(keys_usage security ${CMAKE_CURRENT_SOURCE_DIR}/keys_usage.c)
# The attack end to end against `pqcoap server --mode sign-v1` processes.
pqcoap_test(keys_oracle security ${CMAKE_CURRENT_SOURCE_DIR}/keys_oracle.c)
target_compile_definitions(keys_oracle PRIVATE PQCOAP_CLI_PATH="$<TARGET_FILE:pqcoap_cli>")
add_dependencies(keys_oracle pqcoap_cli)
# pqcoap_keys_script(NAME SCRIPT): a shell test of the CLI (tests/cli/lib.sh), label security.
function(pqcoap_keys_script name script)
  add_test(NAME ${name} COMMAND "${CMAKE_CURRENT_SOURCE_DIR}/${script}" $<TARGET_FILE:pqcoap_cli>)
  set_tests_properties(${name} PROPERTIES LABELS security TIMEOUT 300)
endfunction()
pqcoap_keys_script(keys_cli_usage keys_cli_usage.sh)
pqcoap_test(keys_perms security ${CMAKE_CURRENT_SOURCE_DIR}/keys_perms.c)
pqcoap_keys_script(keys_cli_perms keys_cli_perms.sh)
pqcoap_keys_script(keys_dir keys_dir.sh)
# Exit codes and messages of the CLI for failed requests (tools/pqcoap/cli.c).
pqcoap_test(keys_exit security ${CMAKE_CURRENT_SOURCE_DIR}/keys_exit.c
  ${CMAKE_SOURCE_DIR}/tools/pqcoap/cli.c)
target_include_directories(keys_exit PRIVATE ${CMAKE_SOURCE_DIR}/tools/pqcoap)
