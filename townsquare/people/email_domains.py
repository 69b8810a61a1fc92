"""Email domains that say nothing about a person's employer.

An address at one of these never creates or matches an organisation. The list covers
the large free webmail providers, privacy relays and "no-reply" addresses that forges
and forums put on their users' messages. Sub-domains match too (``eu.yahoo.com``).
"""

from __future__ import annotations

PERSONAL_EMAIL_DOMAINS: frozenset[str] = frozenset(
    {
        # Google, Microsoft, Yahoo, Apple, AOL
        "gmail.com", "googlemail.com",
        "outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de", "hotmail.it", "hotmail.es",
        "live.com", "live.co.uk", "live.fr", "live.de", "live.nl", "msn.com", "passport.com", "windowslive.com",
        "yahoo.com", "yahoo.co.uk", "yahoo.co.jp", "yahoo.co.in", "yahoo.fr", "yahoo.de", "yahoo.es", "yahoo.it",
        "yahoo.com.br", "yahoo.com.au", "ymail.com", "rocketmail.com",
        "icloud.com", "me.com", "mac.com", "privaterelay.appleid.com",
        "aol.com", "aim.com", "aol.co.uk",
        # privacy-focused providers and relays
        "protonmail.com", "protonmail.ch", "proton.me", "pm.me", "tutanota.com", "tutanota.de", "tuta.io", "tutamail.com",
        "posteo.de", "posteo.net", "mailbox.org", "fastmail.com", "fastmail.fm", "hey.com", "runbox.com", "disroot.org",
        "riseup.net", "duck.com", "anonaddy.me", "simplelogin.com", "simplelogin.co", "mailfence.com", "startmail.com",
        "zoho.com", "zohomail.com", "hushmail.com", "cock.li", "keemail.me", "ctemplar.com",
        # China, Korea, Japan, Russia and other large national webmail providers
        "qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn", "sohu.com", "aliyun.com",
        "139.com", "189.cn", "naver.com", "hanmail.net", "daum.net", "nate.com", "kakao.com",
        "yandex.ru", "yandex.com", "ya.ru", "mail.ru", "bk.ru", "inbox.ru", "list.ru", "rambler.ru",
        "gmx.de", "gmx.net", "gmx.com", "gmx.at", "gmx.ch", "web.de", "t-online.de", "freenet.de", "arcor.de",
        "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr", "libero.it", "virgilio.it", "tiscali.it",
        "seznam.cz", "centrum.cz", "wp.pl", "o2.pl", "onet.pl", "interia.pl", "ukr.net", "rediffmail.com",
        "uol.com.br", "bol.com.br", "terra.com.br", "btinternet.com", "sky.com", "virginmedia.com", "ntlworld.com",
        "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net", "charter.net",
        "shaw.ca", "rogers.com", "sympatico.ca", "bigpond.com", "optusnet.com.au", "xtra.co.nz",
        "mail.com", "email.com", "usa.com", "inbox.com", "lycos.com", "excite.com",
        # no-reply addresses forges, forums and chat tools put on messages
        "users.noreply.github.com", "noreply.github.com", "users.noreply.gitlab.com", "noreply.gitlab.com",
        "users.noreply.codeberg.org", "discordapp.com", "discord.com", "slack.com", "example.com", "example.org",
        "example.net", "localhost", "localdomain", "invalid",
    }
)


def email_domain(email: str) -> str:
    """The lower-case domain of an address, or "" when it has none."""
    _, at, domain = email.strip().rpartition("@")
    return domain.strip().strip(".").lower() if at else ""


def domain_candidates(domain: str) -> list[str]:
    """``mail.eu.acme.com`` -> [mail.eu.acme.com, eu.acme.com, acme.com]: the domain and its parents."""
    parts = domain.split(".")
    return [".".join(parts[i:]) for i in range(len(parts) - 1)]


def is_personal_domain(domain: str) -> bool:
    return not domain or any(candidate in PERSONAL_EMAIL_DOMAINS for candidate in domain_candidates(domain) + [domain])


# Second-level public suffixes common enough to matter: ``acme.co.uk`` is one organisation, not "Co".
_SECOND_LEVEL = frozenset(
    {
        "co.uk", "org.uk", "ac.uk", "gov.uk", "ltd.uk", "plc.uk", "me.uk", "com.au", "net.au", "org.au", "edu.au",
        "co.nz", "org.nz", "ac.nz", "co.jp", "ne.jp", "or.jp", "ac.jp", "co.kr", "or.kr", "ac.kr", "com.br", "net.br",
        "org.br", "com.cn", "net.cn", "org.cn", "edu.cn", "ac.cn", "com.tw", "edu.tw", "com.hk", "com.sg", "edu.sg",
        "co.in", "ac.in", "co.za", "ac.za", "com.mx", "com.ar", "co.il", "ac.il", "com.tr", "edu.tr", "co.id",
        "com.my", "com.ph", "com.vn", "com.pl", "com.es", "co.at", "ac.at", "gv.at", "com.ua", "com.ru",
    }
)


def registrable_domain(domain: str) -> str:
    """``mail.eu.acme.com`` -> ``acme.com``; ``dev.acme.co.uk`` -> ``acme.co.uk`` (a heuristic, no suffix list)."""
    parts = [part for part in domain.lower().strip(".").split(".") if part]
    keep = 3 if len(parts) >= 3 and ".".join(parts[-2:]) in _SECOND_LEVEL else 2
    return ".".join(parts[-keep:])
