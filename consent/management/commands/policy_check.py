from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.policies.active import policy_directory
from consent.policies.schema import PolicyError, PolicyInvalid, policy_read_file, policy_summary


class Command(BaseCommand):
    help = (
        "Validate a policy file and print what it says; exits 1 listing every problem when it is invalid. "
        "A file in the policy directory must be named after its version. docs/operations.md, 'Policies'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="path to a policy file, e.g. policies/risk-v2.toml")

    def handle(self, *args, file: str, **options) -> None:
        path = Path(file)
        in_directory = path.resolve().parent == policy_directory().resolve()
        try:
            policy = policy_read_file(path, name_is_version=in_directory)
        except PolicyInvalid as error:
            lines = "\n".join(f"  - {problem}" for problem in error.errors)
            raise CommandError(f"{path} is not a valid policy ({len(error.errors)} problem(s)):\n{lines}") from None
        except PolicyError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{path}: valid policy")
        for line in policy_summary(policy):
            self.stdout.write(f"  {line}")
        if not in_directory:
            self.stdout.write(
                f"  (not in the policy directory {policy_directory()}: copy it there as {policy.version}.toml "
                "to activate it)"
            )
