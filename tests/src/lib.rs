//! Test harness shared by the integration tests: a chopsticks chain on 127.0.0.1.
