# Key separation (sign-v1 keys apart), secret key file permissions, --dir without symbolic
# links, CLI exit codes: regression tests (label security).
pqcoap_test(keys_usage security ${CMAKE_CURRENT_SOURCE_DIR}/keys_usage.c)
