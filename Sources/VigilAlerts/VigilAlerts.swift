// VigilAlerts: alarm rules, NEWS2, priorities and alarm states.
