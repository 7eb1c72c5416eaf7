from __future__ import annotations

from app.auth.tokens import authenticate_token


def test_users_create_and_token(runner, make_office):
    make_office("SH")
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Li.Na@Example.com",
            "--name",
            "李娜",
            "--role",
            "agent",
            "--office",
            "sh",
            "--password",
            "long enough password",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "li.na@example.com" in result.output
    token = runner.invoke(args=["users", "token", "--email", "li.na@example.com"])
    assert token.exit_code == 0
    plaintext = token.output.strip().splitlines()[-1]
    assert authenticate_token(plaintext).email == "li.na@example.com"


def test_users_create_rejects_bad_input(runner, make_office):
    make_office("SH")
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "bad",
            "--name",
            "x",
            "--role",
            "agent",
            "--password",
            "short",
        ]
    )
    assert result.exit_code == 2
    assert "email" in result.output and "password" in result.output and "office" in result.output
    unknown_role = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "a@b.com",
            "--name",
            "x",
            "--role",
            "boss",
            "--password",
            "long enough password",
        ]
    )
    assert unknown_role.exit_code == 2 and "role" in unknown_role.output


def test_token_for_unknown_user_fails(runner):
    result = runner.invoke(args=["users", "token", "--email", "ghost@example.com"])
    assert result.exit_code == 2
