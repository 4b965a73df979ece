-- Set by every claim; a processing result is written only while its claim is
-- still the latest, so a run whose lease expired (and whose entity another
-- worker or replica claimed again) cannot overwrite the newer result.
ALTER TABLE refresh_state ADD COLUMN claim_token TEXT;
