"""Site maps and crawls: URL normalisation and globs, robots.txt, sitemaps, the frontier, and
``map_site`` over an injected way of reading a page's links; ``runner`` does maps, crawls and batch
extractions through the client's browser sessions (``AsyncSmoothClient.map``, ``crawl``,
``extract_many``), giving ``MappedPage`` and ``PageResult``.

Part of the core: imports neither the local server nor an adapter.
"""

from .fetch import Fetched, Fetcher, FetchError
from .frontier import CrawlScope, Frontier, Landing, Visit, path_shape
from .mapper import LinksOf, MapOptions, MappedPage, MapReport, PageError, PageLinks, SiteMapper, map_site
from .results import PageResult
from .robots import ROBOTS_USER_AGENT, RobotsRules, load_robots
from .sitemaps import Sitemap, SitemapError, SitemapUrls, parse_sitemap, read_sitemaps
from .static import StaticLinks, links_in_html
from .urls import UrlGlobs, is_tracking_parameter, normalize_url

__all__ = [
    "ROBOTS_USER_AGENT",
    "CrawlScope",
    "FetchError",
    "Fetched",
    "Fetcher",
    "Frontier",
    "Landing",
    "LinksOf",
    "MapOptions",
    "MapReport",
    "MappedPage",
    "PageError",
    "PageLinks",
    "PageResult",
    "RobotsRules",
    "SiteMapper",
    "Sitemap",
    "SitemapError",
    "SitemapUrls",
    "StaticLinks",
    "UrlGlobs",
    "Visit",
    "is_tracking_parameter",
    "links_in_html",
    "load_robots",
    "map_site",
    "normalize_url",
    "parse_sitemap",
    "path_shape",
    "read_sitemaps",
]
