"""AWS End User Messaging SMS (SMS_PROVIDER=aws-sms): SendTextMessage and its events.

send.py sends SMS with SendTextMessage from the origination identity, through the
portal's configuration set; identity.py knows which identity that is and its
throughput (MPS) as AWS reports it; events.py reads the delivery events the
configuration set publishes to the portal's events topic (they arrive signed at
/webhooks/sns/, like every SNS message). Only this folder speaks this API's shapes.
"""
