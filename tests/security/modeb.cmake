# Mode B (sessions) security regressions: key separation, revocation of live sessions,
# bounded retransmission answers, unprotected response codes.
set(MODEB_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
pqcoap_test(modeb_key_usage security ${MODEB_DIR}/modeb_key_usage.c
  ${MODEB_DIR}/../session/fixture.c)
pqcoap_test(modeb_retransmit security ${MODEB_DIR}/modeb_retransmit.c
  ${MODEB_DIR}/../session/fixture.c)
# The revocation test runs the pqcoap CLI as a second process on the server's store file.
pqcoap_test(modeb_revoke security ${MODEB_DIR}/modeb_revoke.c ${MODEB_DIR}/../session/fixture.c)
target_compile_definitions(modeb_revoke PRIVATE PQCOAP_CLI="$<TARGET_FILE:pqcoap_cli>")
add_dependencies(modeb_revoke pqcoap_cli)
pqcoap_test(modeb_unprotected security ${MODEB_DIR}/modeb_unprotected.c
  ${MODEB_DIR}/../session/fixture.c)
