#include <mosquitto.h>
/* MQTT 5 property ids, reason codes and subscription options (MQTT_PROP_*, MQTT_SUB_OPT_*). */
#include <mqtt_protocol.h>
