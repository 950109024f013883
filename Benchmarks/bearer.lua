-- wrk script: send the token from $TOKEN as a bearer credential on every request.
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "")
