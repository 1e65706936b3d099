DROP TABLE interception_versions;
