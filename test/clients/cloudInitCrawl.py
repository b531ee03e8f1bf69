"""Crawls an IMDS endpoint with cloud-init's own EC2 datasource, as a booting instance does.

Usage: python3 cloudInitCrawl.py ENDPOINT   (http://127.0.0.1:PORT, no trailing slash)
Prints the crawled meta-data, user-data and dynamic data as JSON.
"""
import json
import sys
import tempfile

from cloudinit import helpers
from cloudinit.sources import DataSourceEc2

endpoint = sys.argv[1]
config = {"datasource": {"Ec2": {"metadata_urls": [endpoint], "max_wait": 10, "timeout": 2}}}
datasource = DataSourceEc2.DataSourceEc2(config, None, helpers.Paths({"run_dir": tempfile.mkdtemp()}))
# The platform is AWS: the datasource then insists on IMDSv2, with no v1 fallback.
datasource._cloud_name = DataSourceEc2.CloudNames.AWS

crawled = datasource.crawl_metadata()
if not crawled:
    sys.exit("cloud-init crawled nothing")

user_data = crawled["user-data"]
print(json.dumps({
    "api_version": crawled["_metadata_api_version"],
    "meta-data": crawled["meta-data"],
    "user-data": user_data.decode() if isinstance(user_data, bytes) else user_data,
    "dynamic": crawled["dynamic"],
}, default=str))
