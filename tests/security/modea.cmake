# Mode A (signed payloads) security regression tests.
pqcoap_test(modea_recipient security ${CMAKE_CURRENT_SOURCE_DIR}/modea_recipient.c)
pqcoap_test(modea_usage security ${CMAKE_CURRENT_SOURCE_DIR}/modea_usage.c)
pqcoap_test(modea_v1_cap security ${CMAKE_CURRENT_SOURCE_DIR}/modea_v1_cap.c)
pqcoap_test(modea_replay_table security ${CMAKE_CURRENT_SOURCE_DIR}/modea_replay_table.c)
pqcoap_test(modea_floors security ${CMAKE_CURRENT_SOURCE_DIR}/modea_floors.c)
pqcoap_test(modea_client_window security ${CMAKE_CURRENT_SOURCE_DIR}/modea_client_window.c)
pqcoap_test(modea_unsigned security ${CMAKE_CURRENT_SOURCE_DIR}/modea_unsigned.c)
