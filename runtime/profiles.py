"""The voice profiles of one owner (an API key's name, None without keys) on a Storage.

Each profile is one object, profiles/<owner folder>/<person_id>.json (contracts/keys.py), so deleting
a person deletes every vector kept of them. Writes replace the whole object: two edits of one profile
at the same instant (a confirmation and an enrolment job finishing) can lose one of them; they are
rare, made by hand, and the lost one is visible (a sample count), so no lock is taken.
Methods block: callers run them in a thread.
"""

from __future__ import annotations

import logging
import time

import msgspec

from contracts import keys
from contracts.artifacts import VoiceProfile, decode_voice_profile, encode
from runtime.storage.base import ObjectNotFound, Storage
from runtime.voices import new_person_id

log = logging.getLogger(__name__)


class ProfileNotFound(LookupError):
    """No profile with that id for this owner."""


class ProfileStore:
    """One owner's profiles; another owner's are in another folder and never seen."""

    def __init__(self, storage: Storage, owner: str | None) -> None:
        self.storage, self.owner = storage, owner

    def key(self, person_id: str) -> str:
        return keys.voice_profile_key(self.owner, person_id)

    def list(self) -> list[VoiceProfile]:
        """Every profile of the owner, by name; one that cannot be read is left out and logged."""
        profiles = []
        for key in self.storage.list(keys.voice_profiles_prefix(self.owner)):
            if not key.endswith(".json"):
                continue
            try:
                profiles.append(decode_voice_profile(self.storage.get_bytes(key)))
            except ObjectNotFound:
                continue  # deleted since the listing
            except msgspec.DecodeError as exc:
                log.warning("voice profile %s is not readable, left out: %s", key, exc)
        return sorted(profiles, key=lambda p: (p.name.casefold(), p.person_id))

    def find(self, person_id: str) -> VoiceProfile | None:
        """The profile, or None when there is none (or the id is not one)."""
        if not _valid(person_id):
            return None
        try:
            return decode_voice_profile(self.storage.get_bytes(self.key(person_id)))
        except ObjectNotFound:
            return None

    def get(self, person_id: str) -> VoiceProfile:
        """The profile; raises ProfileNotFound."""
        profile = self.find(person_id)
        if profile is None:
            raise ProfileNotFound(person_id)
        return profile

    def create(self, name: str) -> VoiceProfile:
        """A new profile with no voice yet."""
        now = time.time()
        profile = VoiceProfile(
            person_id=new_person_id(), name=name, owner=self.owner, created_at=now, updated_at=now
        )
        self.put(profile)
        return profile

    def put(self, profile: VoiceProfile) -> None:
        self.storage.put_bytes(self.key(profile.person_id), encode(profile), "application/json")

    def delete(self, person_id: str) -> bool:
        """Remove the profile and so every vector of it; False when there was none."""
        if not _valid(person_id) or not self.storage.exists(self.key(person_id)):
            return False
        self.storage.delete_prefix(self.key(person_id))  # the key itself: ids never prefix another's key
        return True


def _valid(person_id: str) -> bool:
    return keys.is_valid_job_id(person_id)  # the same shape (contracts.options.PersonId)
