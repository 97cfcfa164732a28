"""The HTTP doors Twilio and SNS call: verify, hand over to the pipeline, answer."""
